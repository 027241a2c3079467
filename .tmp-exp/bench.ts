import { buildTinyModel } from '../test/server/inference/tiny-model.ts';
import { readTileCrop } from '../test/server/inference/tile-image.ts';
import { OnnxSegmenter, ModelRegistry } from '../server/src/inference/index.ts';
const which = process.argv[2] ?? 'tiny';
let card, modelPath;
if (which === 'tiny') { const m = await buildTinyModel(); card = m.card; modelPath = m.modelPath; }
else { const r = await ModelRegistry.load({ folder: process.env.MODELS ?? 'models' }); ({ card, modelPath } = r.defaultModel()); }
const img = await readTileCrop('2', 600, 400, 320, 320);
for (const [workers, threads] of [[1, 2], [2, 1], [1, 2], [2, 1]]) {
  const s = await OnnxSegmenter.create({ card, modelPath, device: 'cpu', workers, intraOpThreads: threads });
  await Promise.all([s.predict(img), s.predict(img)]);
  const n = Number(process.argv[3] ?? 30);
  const before = s.stats().inferenceMs;
  const t = performance.now();
  await Promise.all(Array.from({ length: n }, () => s.predict(img)));
  const el = performance.now() - t;
  console.log(`${which} ${workers}w x ${threads}t: ${(el / n).toFixed(1)} ms/tile throughput, mean session.run ${((s.stats().inferenceMs - before) / n).toFixed(1)} ms`);
  await s.dispose();
}
