// Calibration for training/quantize_int8.py: runs the probe model (every activation an output) over training tiles
// prepared as the product prepares a tile (resized to the model's scale with the server's resampler, stain-mapped to
// the card's reference, normalised and padded by shared/preprocess.ts) and writes each activation's range: its min and
// max, or with --percentile P the values below which P % (and above which 100 - P %) of its values lie, from a
// histogram over the first pass's min..max (a few extreme values otherwise stretch a range and coarsen every step).
//   node --import tsx training/calibrate_int8.mjs CARD.json PROBE.onnx OUT.json [--tiles N] [--percentile P]
// The tiles are the card's provenance.trainTiles (never validation, eval-region or other-lab images), N of them
// spread evenly over the list (default 32), from ../shared/data/hubmap-vu/tiles at 0.5 um/px.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { tileModelInput } from '@glomseg/shared/preprocess.js';
import { compileStainMapping, measureStainStatistics } from '@glomseg/shared/stain-normalization.js';
import { resizeRgb } from '../server/src/service/resample.ts';
import { HUBMAP_VU } from '../server/src/repo-paths.mjs';

const TILE_MPP = 0.5;
const BINS = 4096;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { tiles: { type: 'string' }, percentile: { type: 'string' } },
});
const [cardPath, probePath, outPath] = positionals;
const percentile = values.percentile === undefined ? 100 : Number(values.percentile);
if (positionals.length !== 3 || !(percentile > 50 && percentile <= 100)) {
  console.error(
    'usage: node --import tsx training/calibrate_int8.mjs CARD.json PROBE.onnx OUT.json [--tiles N] [--percentile P (50..100]]',
  );
  process.exit(2);
}
const card = JSON.parse(readFileSync(cardPath, 'utf8'));
const tileFolder = path.join(HUBMAP_VU, 'tiles');
const all = card.provenance?.trainTiles ?? [];
if (all.length === 0) throw new Error(`${cardPath} lists no provenance.trainTiles to calibrate on`);
const count = Math.min(all.length, Number(values.tiles ?? 32));
const chosen = Array.from({ length: count }, (_, i) => all[Math.floor((i * all.length) / count)]);

/** A training tile as the model sees it on a slide: model pixels, stain-mapped, normalised. */
async function modelInput(id) {
  const { data, info } = await sharp(path.join(tileFolder, `${id}.jpg`))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const full = { width: info.width, height: info.height, data: new Uint8Array(data) };
  const scale = (card.mpp ?? TILE_MPP * card.downsample) / TILE_MPP;
  const image = await resizeRgb(full, Math.round(full.width / scale), Math.round(full.height / scale));
  const method = card.stain?.method;
  const from = method && method !== 'off' ? measureStainStatistics(image) : undefined;
  const map = from ? compileStainMapping({ method, from, to: card.stain.reference }) : undefined;
  return tileModelInput(image, card, map);
}

const session = await InferenceSession.create(probePath, { intraOpNumThreads: 2 });

/** Calls visit(name, data) for the input and every activation of the probe model, tile by tile. */
async function eachActivation(visit) {
  for (const id of chosen) {
    const input = await modelInput(id);
    const dims = card.input.layout === 'NHWC' ? [1, input.height, input.width, 3] : [1, 3, input.height, input.width];
    const feeds = { [card.input.name]: new Tensor('float32', input.values, dims) };
    const outputs = await session.run(feeds);
    for (const [name, tensor] of [[card.input.name, feeds[card.input.name]], ...Object.entries(outputs)]) {
      visit(name, tensor.data);
    }
  }
}

const ranges = {};
await eachActivation((name, data) => {
  let [low, high] = ranges[name] ?? [Infinity, -Infinity];
  for (const v of data) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  ranges[name] = [low, high];
});
if (percentile < 100) {
  const histograms = Object.fromEntries(Object.keys(ranges).map((name) => [name, new Float64Array(BINS)]));
  await eachActivation((name, data) => {
    const [low, high] = ranges[name];
    const step = (high - low) / BINS || 1;
    const histogram = histograms[name];
    for (const v of data) histogram[Math.min(BINS - 1, Math.floor((v - low) / step))]++;
  });
  for (const [name, histogram] of Object.entries(histograms)) {
    const [low, high] = ranges[name];
    const step = (high - low) / BINS || 1;
    const total = histogram.reduce((a, b) => a + b, 0);
    const tail = (total * (100 - percentile)) / 100;
    let below = 0;
    let first = 0;
    while (first < BINS - 1 && below + histogram[first] <= tail) below += histogram[first++];
    let above = 0;
    let last = BINS - 1;
    while (last > first && above + histogram[last] <= tail) above += histogram[last--];
    ranges[name] = [low + first * step, low + (last + 1) * step];
  }
}
writeFileSync(outPath, JSON.stringify({ tiles: chosen, percentile, ranges }, null, 1));
console.log(
  `calibrated ${Object.keys(ranges).length} tensors on ${chosen.length} training tiles ` +
    `(${percentile < 100 ? `percentile ${percentile}` : 'min/max'}) -> ${outPath}`,
);
