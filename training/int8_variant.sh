#!/usr/bin/env bash
# The int8 CPU variant of a model folder's card (issue 31): static QDQ quantisation calibrated on training tiles, then
# the product's own scoring of fp32 and int8 side by side, and the card's `variants.cpu` set only when every figure
# is within TOLERANCE (default 0.005) of fp32: validation global Dice and mean tile Dice
# (training/score_validation.sh) and other-lab mean image Dice and F1 (--other-labs). The server loads
# variants.cpu on the CPU provider; the figures go to the card's metrics.int8 either way.
#   bash training/int8_variant.sh [MODEL_FOLDER] [OUT]   (defaults: models, a temp folder; CALIB_TILES=32;
#   CALIB_PERCENTILE=100: min/max ranges, or e.g. 99.99 to clip each activation's extreme values;
#   INT8_FLOAT=PREFIX,...: ONNX node name prefixes kept float, e.g. /up.3/ for a decoder's full-resolution level)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$(cd "${1:-$repo/models}" && pwd)"
out="${2:-$(mktemp -d)}"
mkdir -p "$out"
card="$models/glomseg-unet.json"
file="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).file)' "$card")"
int8="${file%.onnx}.int8.onnx"
cd "$repo"
/usr/bin/python3 training/quantize_int8.py probe "$models/$file" "$out/probe.onnx"
node --import tsx training/calibrate_int8.mjs "$card" "$out/probe.onnx" "$out/ranges.json" --tiles "${CALIB_TILES:-32}" \
  --percentile "${CALIB_PERCENTILE:-100}"
/usr/bin/python3 training/quantize_int8.py quantize "$models/$file" "$out/ranges.json" "$models/$int8" \
  ${INT8_FLOAT:+--float "$INT8_FLOAT"}
# Two model folders that differ only in the file the card names (no variants: each runs what it names).
for kind in fp32 int8; do
  mkdir -p "$out/$kind"
  name="$file"; [[ $kind == int8 ]] && name="$int8"
  ln -sf "$models/$name" "$out/$kind/$name"
  node -e '
    const fs = require("fs"); const [card, dst, name] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(card, "utf8")); delete c.variants; c.file = name;
    fs.writeFileSync(dst, JSON.stringify(c, null, 2));' "$card" "$out/$kind/glomseg-unet.json" "$name"
  bash training/score_validation.sh "$out/$kind" "$out/validation-$kind" > "$out/validation-$kind.log"
  bash training/score_validation.sh --other-labs "$out/$kind" "$out/other-labs-$kind" > "$out/other-labs-$kind.log"
done
node training/int8_gate.mjs "$card" "$int8" "$out" "${TOLERANCE:-0.005}" "${INT8_FLOAT:-}"
