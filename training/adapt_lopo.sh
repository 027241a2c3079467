#!/usr/bin/env bash
# Issue 30: choosing an adaptation recipe without looking at C003. Leave-one-patient-out over the correction patients
# of the H&E biopsy set (C001, C002, C004): for each, training/adapt.py adapts the parent on the other two patients'
# views (training/adapt_regions.py; adapt.py's held-out split as usual) and the product (`glomseg score`,
# training/score_validation.sh --other-labs) scores the left-out patient's views. Prints one JSON line: the recipe,
# mean image Dice over all left-out views of the three folds, F1 of their pooled IoU >= 0.5 matches (TP, FP, FN), and
# the same per fold; OUT/lopo.json holds it with each fold's steps and seconds. C003 is never read.
#   ADAPT_OPTS="--scale-range 0.5,2.0" MAX_STEPS=200 bash training/adapt_lopo.sh OUT
# Environment: ADAPT_OPTS (adapt.py options of the recipe), MAX_STEPS (200: each fold trains exactly this many steps,
# so recipes are compared at a fixed schedule whatever the machine's load; MAX_MINUTES, 60, only guards a runaway),
# THREADS (1), SEEDS ("0": several, e.g. "0 1", repeat each fold with each --seed and pool them all), MODELS (parent
# model folder, default models), OTHER_LABS (the set, default awke4-he-biopsy), PATIENTS ("C001 C002 C004").
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="${1:?usage: bash training/adapt_lopo.sh OUT}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
models="$(cd "${MODELS:-$repo/models}" && pwd)"
set_dir="${OTHER_LABS:-$repo/../shared/data/other-labs/awke4-he-biopsy}"
read -r -a patients <<<"${PATIENTS:-C001 C002 C004}"
read -r -a seeds <<<"${SEEDS:-0}"
started=$(date +%s)
for left in "${patients[@]}"; do
  train=()
  for p in "${patients[@]}"; do [[ "$p" != "$left" ]] && train+=("$p"); done
  tiles="$(awk -F, -v p="$left" '$2 == p { printf "%s ", $1 }' "$set_dir/tiles.csv")"
  regions="$out/regions-$left"
  if [[ ! -f "$regions/manifest.json" ]]; then
    /usr/bin/python3 training/adapt_regions.py "$set_dir" "$regions" --patients "$(IFS=,; echo "${train[*]}")" \
      --card "$models/glomseg-unet.json" >&2
  fi
  for seed in "${seeds[@]}"; do
    fold="$out/fold-$left-s$seed"
    rm -rf "$fold"
    mkdir -p "$fold"
    echo "== fold $left (trained on ${train[*]}, seed $seed)" >&2
    # shellcheck disable=SC2086 # ADAPT_OPTS is a list of options
    /usr/bin/python3 training/adapt.py --card "$models/glomseg-unet.json" --manifest "$regions/manifest.json" \
      --out "$fold/model" --threads "${THREADS:-1}" --max-minutes "${MAX_MINUTES:-60}" \
      --max-steps "${MAX_STEPS:-200}" --seed "$seed" ${ADAPT_OPTS:-} \
      >"$fold/adapt-progress.jsonl" 2>"$fold/adapt-stderr.txt"
    OTHER_LABS="$set_dir" OTHER_LABS_TILES="$tiles" bash training/score_validation.sh --other-labs "$fold/model" \
      "$fold/scores" >"$fold/score.log" 2>&1
  done
done
node -e '
  const fs = require("fs"), path = require("path");
  const [out, opts, steps, seconds] = process.argv.slice(1);
  const folds = fs.readdirSync(out).filter((d) => d.startsWith("fold-")).sort().map((d) => {
    const m = JSON.parse(fs.readFileSync(path.join(out, d, "scores", "metrics.json"), "utf8"));
    const progress = fs.readFileSync(path.join(out, d, "adapt-progress.jsonl"), "utf8").trim().split("\n");
    const done = JSON.parse(progress.at(-1));
    return { fold: d.slice(5), steps: done.steps, seconds: done.seconds, heldOut: done.heldOut, perImage: m.perImage,
             meanImageDice: m.overall.meanImageDice, tp: m.overall.truePositives, fp: m.overall.falsePositives,
             fn: m.overall.falseNegatives };
  });
  const images = folds.flatMap((f) => f.perImage);
  const sum = (k) => folds.reduce((t, f) => t + f[k], 0);
  const [tp, fp, fn] = ["tp", "fp", "fn"].map(sum);
  const r = (v) => Math.round(v * 1000) / 1000;
  const f1 = (a, b, c) => (a ? (2 * a) / (2 * a + b + c) : 0);
  const result = {
    recipe: opts, maxSteps: Number(steps), images: images.length,
    meanImageDice: r(images.reduce((t, i) => t + i.dice, 0) / images.length),
    f1: r(f1(tp, fp, fn)), tp, fp, fn, seconds: Number(seconds),
    folds: folds.map((f) => ({ fold: f.fold, meanImageDice: r(f.meanImageDice), f1: r(f1(f.tp, f.fp, f.fn)),
                               tp: f.tp, fp: f.fp, fn: f.fn, steps: f.steps, trainingSeconds: f.seconds })),
  };
  fs.writeFileSync(path.join(out, "lopo.json"), JSON.stringify(result, null, 2));
  const { folds: _, ...line } = result;
  const short = (f) => `${f.fold} ${f.meanImageDice}/${f.f1} (${f.tp},${f.fp},${f.fn})`;
  console.log(JSON.stringify({ ...line, folds: result.folds.map(short) }));
' "$out" "${ADAPT_OPTS:-}" "${MAX_STEPS:-200}" "$(($(date +%s) - started))"
