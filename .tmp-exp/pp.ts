import { toModelInput, toProbabilityMap } from '../shared/src/preprocess.ts';
import { tinyCard } from '../test/server/inference/tiny-model.ts';
const card = tinyCard('t', 't.onnx');
const img = { width: 320, height: 320, data: new Uint8Array(320 * 320 * 3).map((_, i) => i % 251) };
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  for (let i = 0; i < 20; i++) toModelInput(img, card);
  const a = (performance.now() - t) / 20;
  const out = new Float32Array(320 * 320);
  t = performance.now();
  for (let i = 0; i < 20; i++) toProbabilityMap(out, [1, 1, 320, 320], card);
  console.log('pre', a.toFixed(2), 'post', ((performance.now() - t) / 20).toFixed(2));
}
