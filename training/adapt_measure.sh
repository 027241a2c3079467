#!/usr/bin/env bash
# Issue 30's measurement: the H&E biopsy set as a new lab. The ground truth of the views of patients C001, C002 and
# C004 (12 views, 16 glomeruli) are the lab's corrections; training/adapt.py fine-tunes the model on them (holding out
# its share, as the server's AdaptModel does); the product (`glomseg score`, training/score_validation.sh
# --other-labs) scores patient C003's 16 views (27 glomeruli) before and after, and the eval region after (what the
# lab trades in the training domain).
#   bash training/adapt_measure.sh [OUT]     (default: a temporary folder; prints OUT/measure.json at the end)
# Environment: MODELS (parent model folder, default models), THREADS (2), MAX_MINUTES (12), MAX_STEPS (adapt.py's),
# ADAPT_OPTS (more adapt.py options, e.g. "--lr 5e-4"), EVAL_BEFORE=1 also scores the eval region with the parent.
# Until `glomseg annotations import` and AdaptModel feed adapt.py from the server's datastore, the regions are made
# from the GeoJSON here (training/adapt_regions.py: each view resampled to the model's pixel size as the product
# reads a flat image).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
models="$(cd "${MODELS:-$repo/models}" && pwd)"
set_dir="${OTHER_LABS:-$repo/../shared/data/other-labs/awke4-he-biopsy}"
eval_dir="$repo/../shared/data/hubmap-vu/eval-region"
c003="$(awk -F, '$2 == "C003" { printf "%s ", $1 }' "$set_dir/tiles.csv")"

echo "== regions from C001, C002, C004 (corrections)" >&2
/usr/bin/python3 training/adapt_regions.py "$set_dir" "$out/regions" --patients C001,C002,C004 \
  --card "$models/glomseg-unet.json" >&2

echo "== C003 before" >&2
OTHER_LABS_TILES="$c003" bash training/score_validation.sh --other-labs "$models" "$out/c003-before" >&2

echo "== adapting (threads ${THREADS:-2}, at most ${MAX_MINUTES:-12} min of training)" >&2
rm -rf "$out/model"
cat /proc/loadavg >"$out/load-before.txt"
# shellcheck disable=SC2086 # ADAPT_OPTS is a list of options
/usr/bin/time -v -o "$out/adapt-time.txt" /usr/bin/python3 training/adapt.py --card "$models/glomseg-unet.json" \
  --manifest "$out/regions/manifest.json" --out "$out/model" --threads "${THREADS:-2}" \
  --max-minutes "${MAX_MINUTES:-12}" ${MAX_STEPS:+--max-steps "$MAX_STEPS"} ${ADAPT_OPTS:-} \
  >"$out/adapt-progress.jsonl" 2>"$out/adapt-stderr.txt"
cat /proc/loadavg >"$out/load-after.txt"

echo "== C003 after" >&2
OTHER_LABS_TILES="$c003" bash training/score_validation.sh --other-labs "$out/model" "$out/c003-after" >&2

echo "== eval region after" >&2
npm run -s glomseg -- score "$eval_dir/kidney-region.tif" --annotations "$eval_dir/kidney-region.geojson" \
  --models "$out/model" --device cpu --out "$out/eval-after" >&2
if [[ -n "${EVAL_BEFORE:-}" ]]; then
  npm run -s glomseg -- score "$eval_dir/kidney-region.tif" --annotations "$eval_dir/kidney-region.geojson" \
    --models "$models" --device cpu --out "$out/eval-before" >&2
fi

node training/adapt_measure.mjs "$out" "$models" | tee "$out/measure.json"
