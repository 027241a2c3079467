#!/usr/bin/env bash
# Product-level validation: `glomseg score` (the same tiling, resampling, tracing and Dice as the eval region) on
# the model's validation tiles, read from its card. Use it to compare models and post-processing choices; the
# eval region stays untouched until a model is chosen.
#   bash training/score_validation.sh [--pyramid | --stress | --other-labs] [MODEL_FOLDER] [OUT]  (defaults: models, a temp folder)
# --pyramid scores the tiles as read from a sharp JPEG pyramid level at the model's scale instead of the full
# resolution JPEGs (training/pyramid_validation_tiles.py): how slides with stored lower levels are read.
# --stress scores them under each fixed, seeded transformation of training/stress_validation_tiles.py (other labs'
# stains, JPEG and blur, pixel sizes passed with --mpp) and prints global Dice, mean tile Dice and F1 of each beside
# the plain figure, as a Markdown table (and OUT/stress.json). STAIN=off|reinhard|auto picks the normalisation and
# THRESHOLD=P the probability threshold (default: the card's), in every mode.
# --other-labs scores another hospital's images (OTHER_LABS=an other-labs/<set> folder, default awke4-he-biopsy; never
# trained on) one by one, each at the um_per_px its tiles.csv states (one `glomseg score --list` run per pixel size),
# and prints mean image Dice, object precision, recall and F1 per patient and overall (OUT/metrics.json, written by
# training/other_labs.mjs). OTHER_LABS_TILES="ID ID ..." scores only those tiles (the test uses two).
set -euo pipefail
pyramid=0
stress=0
other_labs=0
if [[ "${1:-}" == "--pyramid" ]]; then pyramid=1; shift; fi
if [[ "${1:-}" == "--stress" ]]; then stress=1; shift; fi
if [[ "${1:-}" == "--other-labs" ]]; then other_labs=1; shift; fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$(cd "${1:-$repo/models}" && pwd)"
out="${2:-$(mktemp -d)}"
tiles="$repo/../shared/data/hubmap-vu/tiles"
ext=jpg
# The tiles are plain JPEGs without a pixel size: they are 0.5 um/px (data README).
mpp=0.5
if (( pyramid )); then
  tiles="$out/pyramid-tiles"
  ext=png
  mpp="$(/usr/bin/python3 "$repo/training/pyramid_validation_tiles.py" "$models/glomseg-unet.json" "$tiles")"
fi
if (( stress )); then
  cd "$repo"
  mkdir -p "$out"
  /usr/bin/python3 "$repo/training/stress_validation_tiles.py" "$models/glomseg-unet.json" "$out/stress" > "$out/stress-list.txt"
  while read -r name mpp description; do
    tiles=("$out/stress/$name"/*.png)
    npm run -s glomseg -- score "${tiles[@]}" --annotations "$out/stress/$name" --mpp "$mpp" --models "$models" --device cpu \
      --stain-normalization "${STAIN:-auto}" ${THRESHOLD:+--threshold "$THRESHOLD"} --out "$out/scores/$name" --json > "$out/scores-$name.jsonl"
  done < "$out/stress-list.txt"
  node -e '
    const fs = require("fs"), path = require("path");
    const [out, stain] = process.argv.slice(1);
    const rows = fs.readFileSync(path.join(out, "stress-list.txt"), "utf8").trim().split("\n").map((line) => {
      const [name, mpp, ...description] = line.split(" ");
      const m = JSON.parse(fs.readFileSync(path.join(out, "scores", name, "metrics.json"), "utf8")).overall;
      return { name, mpp: Number(mpp), description: description.join(" "), globalDice: m.globalDice, meanTileDice: m.meanTileDice, f1: m.f1 };
    });
    const plain = rows.find((r) => r.name === "plain");
    console.log(`| transformation | um/px | global Dice | vs plain | mean tile Dice | F1 |\n| --- | --- | --- | --- | --- | --- |`);
    for (const r of rows) console.log(`| ${r.name}: ${r.description} | ${r.mpp} | ${r.globalDice.toFixed(3)} | ${(r.globalDice - plain.globalDice >= 0 ? "+" : "") + (r.globalDice - plain.globalDice).toFixed(3)} | ${r.meanTileDice.toFixed(3)} | ${r.f1.toFixed(3)} |`);
    fs.writeFileSync(path.join(out, "stress.json"), JSON.stringify({ stainNormalization: stain, rows }, null, 2));
  ' "$out" "${STAIN:-auto}"
  echo "stress results: $out/stress.json"
  exit 0
fi
if (( other_labs )); then
  cd "$repo"
  set_dir="${OTHER_LABS:-$repo/../shared/data/other-labs/awke4-he-biopsy}"
  mkdir -p "$out"
  tiles_option=()
  if [[ -n "${OTHER_LABS_TILES:-}" ]]; then tiles_option=(--tiles "$OTHER_LABS_TILES"); fi
  node --import tsx "$repo/training/other_labs.mjs" plan "$set_dir" "$out" "${tiles_option[@]}" > "$out/plan.txt"
  while read -r mpp list; do
    # --force: the batch settings do not name the model folder, so results of another model in OUT must not be resumed.
    npm run -s glomseg -- score --list "$list" --annotations "$set_dir" --mpp "$mpp" --models "$models" --device cpu \
      --stain-normalization "${STAIN:-auto}" ${THRESHOLD:+--threshold "$THRESHOLD"} --force --out "$out/scores/mpp-$mpp" < /dev/null
  done < "$out/plan.txt"
  node --import tsx "$repo/training/other_labs.mjs" summarise "$set_dir" "$out" "${tiles_option[@]}" --models "$models" \
    --stain "${STAIN:-auto}" ${THRESHOLD:+--threshold "$THRESHOLD"}
  echo "other-lab metrics: $out/metrics.json"
  exit 0
fi
ids="$(node -e "const c = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log(c.provenance.validationTiles.join(' '))" "$models/glomseg-unet.json")"
slides=()
for id in $ids; do slides+=("$tiles/$id.$ext"); done
cd "$repo"
npm run -s glomseg -- score "${slides[@]}" --annotations "$tiles" --mpp "$mpp" --models "$models" --device cpu \
  --stain-normalization "${STAIN:-auto}" ${THRESHOLD:+--threshold "$THRESHOLD"} --out "$out"
echo "metrics: $out/metrics.json"
