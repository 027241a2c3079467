import { buildTinyModel } from '../test/server/inference/tiny-model.ts';
import { OnnxSegmenter } from '../server/src/inference/index.ts';
for (const width of [8, 16, 32]) {
  const m = await buildTinyModel({ width });
  const s = await OnnxSegmenter.create({ card: m.card, modelPath: m.modelPath, device: 'cpu', workers: 1, intraOpThreads: 1, logger: console.log });
  const img = { width: 512, height: 512, data: new Uint8Array(512 * 512 * 3).map((_, i) => (i * 7) % 256) };
  await s.predict(img);
  const t = performance.now();
  for (let i = 0; i < 5; i++) await s.predict(img);
  console.log(width, ((performance.now() - t) / 5).toFixed(1), 'ms', s.stats());
  await s.dispose();
}
