#!/usr/bin/env bash
# CI smoke test for the U-Net on the MobileNetV2 encoder (--arch mobilenet-unet) with the long run's options, on
# two tiles and two other-lab images: 4 steps straight, and the same 4 steps stopped after step 3 (mid-epoch, as a
# SIGTERM or --max-steps-this-run leaves it) and resumed from the state. The resumed run must end with the same
# weights, optimiser and validation curve as the straight one (the continuation is reproduced step for step). Then
# the exported ONNX model runs in onnxruntime-node with the card's [0, 1] input (mean 0, std 1).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$repo"
opts=(--smoke --arch mobilenet-unet --freeze-until block_3_expand --domain-views --augment strong
  --scale-range 0.7,1.4 --stain-normalization reinhard --other-labs "$repo/../shared/data/other-labs/awke4-he-biopsy"
  --other-labs-held-out C002 --data "$repo/../shared/data/hubmap-vu" --epochs 2 --threads 1)
/usr/bin/python3 training/train.py "${opts[@]}" --out "$out/straight" | tee "$out/straight.log"
/usr/bin/python3 training/train.py "${opts[@]}" --out "$out/resumed" --max-steps-this-run 3 | tee "$out/stopped.log"
grep -q "stopped at step 3 (--max-steps-this-run 3)" "$out/stopped.log"
test ! -e "$out/resumed/glomseg-unet.onnx"
mkdir -p "$out/ema" && cp "$out/resumed/smoke-state.pt" "$out/ema/"
/usr/bin/python3 training/train.py "${opts[@]}" --out "$out/resumed" --resume | tee "$out/resumed.log"
# A later sitting may take up --ema: the average starts from the resumed weights and is saved with the state.
/usr/bin/python3 training/train.py "${opts[@]}" --out "$out/ema" --resume --ema 0.9 | tee "$out/ema.log"
grep -q "weight average (--ema 0.9) starts at step 3" "$out/ema.log"
/usr/bin/python3 -c "import sys, torch; s = torch.load(sys.argv[1]); assert s['ema'] is not None and s['step'] == 4, s['step']; print('ema ok: taken up at step 3 and saved with the state')" "$out/ema/smoke-state.pt"
grep -q "resumed from $out/resumed/smoke-state.pt: epoch 1, step 3" "$out/resumed.log"
grep -q "other-lab validation: 2 images .*, 1 of them held out of the checkpoint choice (C002)" "$out/resumed.log"
/usr/bin/python3 - "$out/straight/smoke-state.pt" "$out/resumed/smoke-state.pt" <<'PY'
import sys
import torch
a, b = (torch.load(p) for p in sys.argv[1:3])
assert a['step'] == b['step'] == 4, (a['step'], b['step'])
gap = max(float((a['model'][k].float() - b['model'][k].float()).abs().max()) for k in a['model'])
moments = max(float((x[m] - y[m]).abs().max()) for x, y in zip(a['optimizer']['state'].values(),
                                                                  b['optimizer']['state'].values()) for m in ('exp_avg', 'exp_avg_sq'))
keys = ('loss', 'valDiceBest', 'otherLabsMeanImageDice', 'otherLabsHeldOutMeanImageDice')
curve = [tuple(h[k] for k in keys) for h in a['history']]
assert curve == [tuple(h[k] for k in keys) for h in b['history']], (a['history'], b['history'])
assert 'otherLabsHeldOut' in a['best'] and a['best']['choiceRule'].endswith('held out C002'), a['best']
assert gap == 0 and moments == 0, (gap, moments)
print(f'resume ok: stopped at step 3 and resumed = straight to step 4 (max |weight diff| {gap}, validation curve equal)')
PY
grep -q '"mean": \[\s*0.0' "$out/resumed/glomseg-unet.json" || grep -q '"mean": \[$' "$out/resumed/glomseg-unet.json"
node --input-type=module -e "
import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const card = JSON.parse(readFileSync('$out/resumed/glomseg-unet.json', 'utf8'));
if (card.input.mean.some((v) => v !== 0) || card.input.std.some((v) => v !== 1)) throw new Error('card input ' + JSON.stringify(card.input));
const session = await ort.InferenceSession.create('$out/resumed/' + card.file);
const [h, w] = [64, 96];
const out = await session.run({ [card.input.name]: new ort.Tensor('float32', new Float32Array(3 * h * w).fill(0.5), [1, 3, h, w]) });
const dims = out[card.output.name].dims.join('x');
if (dims !== '1x1x' + h + 'x' + w) throw new Error('unexpected output shape ' + dims);
console.log('smoke ok: onnxruntime-node ran the mobilenet-unet ' + card.file + ', output ' + dims);
"
