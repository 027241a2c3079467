import { describe, expect, it } from 'vitest';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { applySigmoid, cropProbability, sigmoid, toModelInput, toProbabilityMap } from '@glomseg/shared/preprocess.js';

function card(input: Partial<ModelCard['input']> = {}, output: Partial<ModelCard['output']> = {}): ModelCard {
  return {
    id: 'm', name: 'm', description: '', file: 'm.onnx',
    input: { name: 'input', layout: 'NCHW', channelOrder: 'RGB', scale: 10, mean: [1, 2, 3], std: [2, 4, 5], ...input },
    output: { name: 'out', kind: 'logits', channel: 0, ...output },
    tileSize: 256, margin: 32, sizeMultiple: 32, threshold: 0.5,
  };
}

// Two pixels: RGB (10, 20, 30) and (40, 50, 60); divided by scale 10 -> (1, 2, 3), (4, 5, 6).
const image = { width: 2, height: 1, data: new Uint8Array([10, 20, 30, 40, 50, 60]) };

describe('toModelInput', () => {
  it('normalises into planar NCHW', () => {
    // R: (1-1)/2, (4-1)/2; G: (2-2)/4, (5-2)/4; B: (3-3)/5, (6-3)/5
    expect(Array.from(toModelInput(image, card()))).toEqual([0, 1.5, 0, 0.75, 0, 0.6000000238418579]);
  });

  it('normalises into interleaved NHWC', () => {
    const out = toModelInput(image, card({ layout: 'NHWC' }));
    expect(Array.from(out).map((v) => +v.toFixed(6))).toEqual([0, 0, 0, 1.5, 0.75, 0.6]);
  });

  it('reorders channels for BGR models, mean and std following the model order', () => {
    // channel 0 = B: (3-1)/2, (6-1)/2; channel 1 = G; channel 2 = R: (1-3)/5, (4-3)/5
    const out = toModelInput(image, card({ channelOrder: 'BGR' }));
    expect(Array.from(out).map((v) => +v.toFixed(6))).toEqual([1, 2.5, 0, 0.75, -0.4, 0.2]);
  });

  it('rejects an image whose byte count does not match its size', () => {
    expect(() => toModelInput({ width: 2, height: 2, data: new Uint8Array(6) }, card())).toThrowError(/expected 12/);
  });
});

describe('model output', () => {
  it('computes a stable sigmoid', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(Math.log(3))).toBeCloseTo(0.75, 12);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(Array.from(applySigmoid(new Float32Array([0, Math.log(3)])))).toEqual([0.5, 0.75]);
  });

  it('picks the card channel from NCHW logits and applies the sigmoid', () => {
    const output = new Float32Array([9, 9, 0, Math.log(3)]); // channel 0: 9, 9; channel 1: 0, ln 3
    const map = toProbabilityMap(output, [1, 2, 1, 2], card({}, { channel: 1 }));
    expect(map).toMatchObject({ width: 2, height: 1 });
    expect(Array.from(map.data)).toEqual([0.5, 0.75]);
  });

  it('picks the channel from NHWC probabilities without a sigmoid', () => {
    const output = new Float32Array([0.1, 0.9, 0.2, 0.8]); // pixel 0: (0.1, 0.9), pixel 1: (0.2, 0.8)
    const map = toProbabilityMap(output, [1, 1, 2, 2], card({ layout: 'NHWC' }, { kind: 'probability', channel: 1 }));
    expect(Array.from(map.data)).toEqual([0.8999999761581421, 0.800000011920929]);
    expect(() => toProbabilityMap(output, [1, 1, 2, 2], card({ layout: 'NHWC' }, { channel: 2 }))).toThrowError(/channel 2/);
    expect(() => toProbabilityMap(output, [1, 3, 2, 2], card())).toThrowError(/holds 4 values/);
  });
});

describe('cropProbability', () => {
  it('keeps the centre rectangle', () => {
    const map = { width: 4, height: 3, data: Float32Array.from({ length: 12 }, (_, i) => i) };
    const crop = cropProbability(map, 1, 1, 2, 2);
    expect(crop).toMatchObject({ width: 2, height: 2 });
    expect(Array.from(crop.data)).toEqual([5, 6, 9, 10]);
    expect(() => cropProbability(map, 3, 0, 2, 1)).toThrowError(/does not fit/);
  });
});
