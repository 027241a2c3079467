#!/usr/bin/env bash
# Product-level validation: `glomseg score` (the same tiling, resampling, tracing and Dice as the eval region) on
# the model's validation tiles, read from its card. Use it to compare models and post-processing choices; the
# eval region stays untouched until a model is chosen.
#   bash training/score_validation.sh [MODEL_FOLDER] [OUT]      (defaults: models, a temp folder)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$(cd "${1:-$repo/models}" && pwd)"
out="${2:-$(mktemp -d)}"
tiles="$repo/../shared/data/hubmap-vu/tiles"
ids="$(node -e "const c = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log(c.provenance.validationTiles.join(' '))" "$models/glomseg-unet.json")"
slides=()
for id in $ids; do slides+=("$tiles/$id.jpg"); done
cd "$repo"
# The tiles are plain JPEGs without a pixel size: they are 0.5 um/px (data README).
npm run -s glomseg -- score "${slides[@]}" --annotations "$tiles" --mpp 0.5 --models "$models" --device cpu --out "$out"
echo "metrics: $out/metrics.json"
