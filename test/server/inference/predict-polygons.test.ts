/** predictPolygons traces in the worker exactly what predict + traceTile give on the caller's thread. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tissueShare } from '@glomseg/shared/tissue-mask.js';
import { ModelRegistry } from '../../../server/src/inference/model-registry.js';
import { OnnxSegmenter } from '../../../server/src/inference/onnx-segmenter.js';
import { traceTile } from '@glomseg/shared/trace-tile.js';
import type { TraceOptions } from '@glomseg/shared/segmenter.js';
import { MODELS } from '../../helpers/paths.js';
import { readTileScaled, cropRgb } from './tile-image.js';

let segmenter: OnnxSegmenter;

beforeAll(async () => {
  const model = (await ModelRegistry.load({ folder: MODELS })).defaultModel();
  segmenter = await OnnxSegmenter.create({ ...model, device: 'cpu', workers: 1 });
});

afterAll(async () => {
  await segmenter?.dispose();
});

describe('OnnxSegmenter.predictPolygons', () => {
  it('gives the polygons of predict + traceTile, with timings', async () => {
    // Train tile 2 at the model's scale holds a glomerulus.
    const image = cropRgb(await readTileScaled('2', segmenter.card.downsample ?? 4), 0, 0, 384, 288);
    const trace: TraceOptions = {
      keepX: 64,
      keepY: 16,
      keepWidth: 256,
      keepHeight: 256,
      threshold: segmenter.card.threshold,
      transform: { originX: 1000, originY: 2000, scale: 4 },
      minArea: segmenter.card.minArea ?? 0,
    };
    const traced = await segmenter.predictPolygons(image, trace);
    const expected = traceTile(await segmenter.predict(image), trace);
    expect(traced.polygons).toEqual(expected);
    expect(traced.polygons.length).toBeGreaterThan(0);
    expect(traced.inferenceMs).toBeGreaterThan(0);
    expect(traced.postprocessMs).toBeGreaterThanOrEqual(0);
    // Measured in the worker, on the pixels as read: what tissueShare gives here.
    expect(traced.tissueFraction).toBe(tissueShare(image.data));
    expect(traced.tissueFraction).toBeGreaterThan(0);
    expect([traced.probabilities?.width, traced.probabilities?.height]).toEqual([384, 288]);
    for (const p of traced.polygons) {
      for (const [x, y] of p.exterior) {
        expect(x).toBeGreaterThanOrEqual(1000);
        expect(x).toBeLessThanOrEqual(1000 + 256 * 4);
        expect(y).toBeGreaterThanOrEqual(2000);
        expect(y).toBeLessThanOrEqual(2000 + 256 * 4);
      }
    }
  });

  it("traces with the card's parting and core rule as traceTile does, and leaves the probabilities out when told", async () => {
    const image = cropRgb(await readTileScaled('2', segmenter.card.downsample ?? 4), 0, 0, 384, 288);
    const { seedThreshold, requireCore } = segmenter.card;
    expect(seedThreshold).toBeDefined(); // the shipped card parts touching glomeruli and requires a core
    expect(requireCore).toBe(true);
    const trace: TraceOptions = {
      keepX: 64,
      keepY: 16,
      keepWidth: 256,
      keepHeight: 256,
      threshold: segmenter.card.threshold,
      seedThreshold,
      requireCore,
      transform: { originX: 0, originY: 0, scale: 4 },
      minArea: segmenter.card.minArea ?? 0,
    };
    const traced = await segmenter.predictPolygons(image, trace, undefined, undefined, { probabilities: false });
    expect(traced.probabilities).toBeUndefined();
    expect(traced.polygons).toEqual(traceTile(await segmenter.predict(image), trace));
    expect(traced.polygons.length).toBeGreaterThan(0);
  });
});
