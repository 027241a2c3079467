// Sanity check of the exported model with onnxruntime-node on one *train* tile (never the eval region):
// Dice against the tile's labelme polygons at the model scale, then 320x320 timing with 1 and 2 threads.
// Usage: node training/check_onnx.mjs [tileId=17] [modelDir=models]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { HUBMAP_VU, REPO_ROOT as repo } from '../server/src/repo-paths.mjs';

const tileId = process.argv[2] ?? '17';
const modelDir = path.resolve(repo, process.argv[3] ?? 'models');
const data = HUBMAP_VU;
const split = readFileSync(path.join(data, 'splits.csv'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith(`${tileId},`));
if (!split?.trim().endsWith(',train')) throw new Error(`tile ${tileId} is not a split=train tile`);

const card = JSON.parse(readFileSync(path.join(modelDir, 'glomseg-unet.json'), 'utf8'));
const f = card.downsample;
const { data: full, info } = await sharp(path.join(data, 'tiles', `${tileId}.jpg`))
  .removeAlpha()
  .raw()
  .toBuffer({ resolveWithObject: true });
// Box (area) downsample, as the training data and TIFF pyramid levels are made; crop height to a multiple of 16.
const w = Math.floor(info.width / f);
const h = Math.floor(info.height / f / 16) * 16;
const input = new Float32Array(3 * h * w);
for (let y = 0; y < h; y++) {
  for (let x = 0; x < w; x++) {
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let dy = 0; dy < f; dy++)
        for (let dx = 0; dx < f; dx++) sum += full[((y * f + dy) * info.width + x * f + dx) * 3 + c];
      input[c * h * w + y * w + x] = (sum / (f * f) / card.input.scale - card.input.mean[c]) / card.input.std[c];
    }
  }
}
// Truth: pixel centres inside any polygon (even-odd rule), at the model scale.
const shapes = JSON.parse(readFileSync(path.join(data, 'tiles', `${tileId}.json`), 'utf8')).shapes;
const inside = (px, py, pts) => {
  let hit = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
};

async function session(threads) {
  return ort.InferenceSession.create(path.join(modelDir, card.file), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
}
const s2 = await session(2);
const out = await s2.run({ [card.input.name]: new ort.Tensor('float32', input, [1, 3, h, w]) });
const logits = out[card.output.name].data;
let inter = 0,
  predN = 0,
  truthN = 0;
for (let y = 0; y < h; y++) {
  for (let x = 0; x < w; x++) {
    const pred = 1 / (1 + Math.exp(-logits[y * w + x])) >= card.threshold;
    const truth = shapes.some((s) => inside((x + 0.5) * f, (y + 0.5) * f, s.points));
    predN += pred;
    truthN += truth;
    inter += pred && truth;
  }
}
console.log(
  `tile ${tileId} (${w}x${h} at 1/${f}): Dice ${((2 * inter) / Math.max(1, predN + truthN)).toFixed(4)} ` +
    `(predicted ${predN} px, truth ${truthN} px, threshold ${card.threshold})`,
);

// 320 = 256 + 2 x 32 margin, 384 = 256 + 2 x 64 (the card's margin).
for (const size of [320, 384]) {
  const tile = new ort.Tensor(
    'float32',
    new Float32Array(3 * size * size).map((_, i) => input[i % input.length]),
    [1, 3, size, size],
  );
  for (const threads of [1, 2]) {
    const s = threads === 2 ? s2 : await session(threads);
    await s.run({ [card.input.name]: tile });
    const times = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      await s.run({ [card.input.name]: tile });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${size}x${size}, ${threads} thread(s): median ${times[4].toFixed(1)} ms, min ${times[0].toFixed(1)} ms`,
    );
  }
}
