/**
 * The shipped ONNX model run through the project's own TypeScript pipeline (pre-processing, worker-thread ONNX
 * session, sigmoid) gives the probabilities PyTorch gave for the same real tile crop, so pre-processing cannot
 * drift between training and serving. Fixture: training/export_parity_fixture.py.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { ModelRegistry } from '../../server/src/inference/model-registry.js';
import { OnnxSegmenter } from '../../server/src/inference/onnx-segmenter.js';
import { MODELS, REPO_ROOT } from '../helpers/paths.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'parity');
let segmenter: OnnxSegmenter;
let fixture: any;

beforeAll(async () => {
  fixture = JSON.parse(await readFile(path.join(FIXTURE, 'fixture.json'), 'utf8'));
  const registry = await ModelRegistry.load({ folder: MODELS });
  const model = registry.get('glomseg-unet');
  // The fp32 file the fixture was made from: without its variants, the CPU would load the card's int8 copy.
  const card = { ...model.card, variants: undefined };
  segmenter = await OnnxSegmenter.create({ card, modelPath: model.modelPath, device: 'cpu', workers: 1 });
});

afterAll(async () => {
  await segmenter?.dispose();
});

describe('ONNX vs PyTorch parity on a real tile', () => {
  it('the fixture was made from the shipped model file', async () => {
    const onnx = await readFile(path.join(MODELS, 'glomseg-unet.onnx'));
    expect(createHash('sha256').update(onnx).digest('hex')).toBe(fixture.model.sha256);
  });

  it('the model card normalises as the fixture did', () => {
    expect(segmenter.card.input.mean).toEqual(fixture.normalisation.mean);
    expect(segmenter.card.input.std).toEqual(fixture.normalisation.std);
    expect(segmenter.card.input.scale).toBe(fixture.normalisation.scale);
  });

  it(`probabilities agree within ${1e-4} (max abs diff)`, async () => {
    const { data, info } = await sharp(path.join(FIXTURE, fixture.input.file))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([fixture.input.width, fixture.input.height]);
    const expected = new Float32Array((await readFile(path.join(FIXTURE, fixture.probabilities.file))).buffer.slice(0));
    const actual = await segmenter.predict({ width: info.width, height: info.height, data: new Uint8Array(data) });
    expect([actual.width, actual.height]).toEqual([info.width, info.height]);
    expect(actual.data.length).toBe(expected.length);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual.data[i] - expected[i]));
    expect(maxDiff).toBeLessThanOrEqual(fixture.tolerance.maxAbsDiff);
    // The crop holds a glomerulus: a model that predicts nothing would pass a diff test against nothing.
    expect(fixture.stats['fractionAbove0.5']).toBeGreaterThan(0.01);
  });
});
