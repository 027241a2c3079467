#!/usr/bin/env bash
# CI smoke test for the U-Net training pipeline (the MobileNetV2 U-Net has smoke_test_mobilenet.sh): a few steps on two
# train tiles with v7's options (strong augmentation, Reinhard normalisation, stress validation) from scratch; a second
# run started from the first one's ONNX weights (--init-onnx), resumed from its state for a second epoch; ONNX export
# to a temp dir, then onnxruntime-node loads the model and runs one 64x96 input. combine_onnx.py's soup and ensemble of
# the first model with itself must compute its function, and so must a U-Net of a larger base width started from it.
# Takes about a minute.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$repo"
shipped=(--augment strong --scale-range 0.7,1.4 --stain-normalization reinhard --stress-val)
first="$out/first"
/usr/bin/python3 training/train.py --smoke --out "$first" --data "$repo/../shared/data/hubmap-vu" "${shipped[@]}" \
  --epochs 1
/usr/bin/python3 training/train.py --smoke --out "$out" --data "$repo/../shared/data/hubmap-vu" "${shipped[@]}" \
  --init-onnx "$first/glomseg-unet.onnx" --epochs 1
/usr/bin/python3 training/train.py --smoke --out "$out" --data "$repo/../shared/data/hubmap-vu" "${shipped[@]}" \
  --init-onnx "$first/glomseg-unet.onnx" --epochs 2 --resume | tee "$out/resumed.log"
grep -q "resumed from $out/smoke-state.pt: epoch 1" "$out/resumed.log"
grep -q "^epoch   2/2" "$out/resumed.log"
grep -q '"method": "reinhard"' "$out/glomseg-unet.json"
# Weights started from a model trained with wide scale jitter keep its card's choice on the scale estimate.
if grep -q '"estimatesScale": false' "$first/glomseg-unet.json"; then grep -q '"estimatesScale": false' "$out/glomseg-unet.json"; fi
# A wider U-Net started from the first model (warm_start.widened) computes the first model's function.
/usr/bin/python3 - "$first/glomseg-unet.onnx" <<'PY'
import sys
import torch
sys.path.insert(0, 'training')
from model import UNet
from warm_start import load_onnx_weights
torch.manual_seed(0)
batches = [torch.randn(2, 3, 64, 96) for _ in range(2)]
narrow, wide = UNet(16, 4, 128), UNet(24, 4, 192)
load_onnx_weights(narrow, sys.argv[1], batches)
drift = load_onnx_weights(wide, sys.argv[1], batches)
with torch.no_grad():
    gap = float((wide.eval()(batches[1]) - narrow.eval()(batches[1])).abs().max())
assert drift < 1e-4 and gap < 1e-4, (drift, gap)
print(f'widen ok: base 24 from a base-16 model, max |logit diff| {gap:.1e}')
PY
test -s "$out/glomseg-unet.onnx"
test -s "$out/glomseg-unet.json"
/usr/bin/python3 training/combine_onnx.py soup "$out/soup" "$first" "$first"
/usr/bin/python3 training/combine_onnx.py ensemble "$out/ensemble" "$first" "$first"
/usr/bin/python3 -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1])); print('onnx.checker ok')" "$out/glomseg-unet.onnx"
node --input-type=module -e "
import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const card = JSON.parse(readFileSync('$out/glomseg-unet.json', 'utf8'));
const session = await ort.InferenceSession.create('$out/' + card.file);
if (session.inputNames[0] !== card.input.name || session.outputNames[0] !== card.output.name) {
  throw new Error('input/output names ' + session.inputNames + ' / ' + session.outputNames + ' do not match the card');
}
const [h, w] = [64, 96];
const out = await session.run({ [card.input.name]: new ort.Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]) });
const dims = out[card.output.name].dims.join('x');
if (dims !== '1x1x' + h + 'x' + w) throw new Error('unexpected output shape ' + dims);
console.log('smoke ok: onnxruntime-node ran ' + card.file + ', output ' + dims);
// A seeded random input: a soup or an ensemble of one model with itself is that model.
const input = new Float32Array(3 * h * w);
let seed = 1;
for (let i = 0; i < input.length; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; input[i] = seed / 2147483648 * 4 - 2; }
const logits = async (file) => {
  const s = await ort.InferenceSession.create(file);
  const result = await s.run({ [card.input.name]: new ort.Tensor('float32', input, [1, 3, h, w]) });
  return result[card.output.name].data;
};
const shipped = await logits('$first/glomseg-unet.onnx');
for (const mode of ['soup', 'ensemble']) {
  const combined = await logits('$out/' + mode + '/glomseg-unet.onnx');
  let diff = 0;
  for (let i = 0; i < shipped.length; i++) diff = Math.max(diff, Math.abs(combined[i] - shipped[i]));
  if (!(diff <= 1e-4)) throw new Error(mode + ' of the first model with itself differs from it by ' + diff);
  console.log('combine ok: ' + mode + ' of the first model with itself, max |logit diff| ' + diff.toExponential(1));
}
"
