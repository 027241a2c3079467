#!/usr/bin/env bash
# Product-level validation: `glomseg score` (the same tiling, resampling, tracing and Dice as the eval region) on
# the model's validation tiles, read from its card. Use it to compare models and post-processing choices; the
# eval region stays untouched until a model is chosen.
#   bash training/score_validation.sh [--pyramid] [MODEL_FOLDER] [OUT]      (defaults: models, a temp folder)
# --pyramid scores the tiles as read from a sharp JPEG pyramid level at the model's scale instead of the full
# resolution JPEGs (training/pyramid_validation_tiles.py): how slides with stored lower levels are read.
set -euo pipefail
pyramid=0
if [[ "${1:-}" == "--pyramid" ]]; then pyramid=1; shift; fi
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
ids="$(node -e "const c = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log(c.provenance.validationTiles.join(' '))" "$models/glomseg-unet.json")"
slides=()
for id in $ids; do slides+=("$tiles/$id.$ext"); done
cd "$repo"
npm run -s glomseg -- score "${slides[@]}" --annotations "$tiles" --mpp "$mpp" --models "$models" --device cpu --out "$out"
echo "metrics: $out/metrics.json"
