import { describe, expect, it } from 'vitest';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import {
  applySigmoid,
  cropProbability,
  sigmoid,
  tileModelInput,
  toModelInput,
  toProbabilityMap,
} from '@glomseg/shared/preprocess.js';
import { applyColourMap, type ColourMap } from '@glomseg/shared/stain-normalization.js';
import { tissueShare } from '@glomseg/shared/tissue-mask.js';

function card(input: Partial<ModelCard['input']> = {}, output: Partial<ModelCard['output']> = {}): ModelCard {
  return {
    id: 'm',
    name: 'm',
    description: '',
    file: 'm.onnx',
    input: { name: 'input', layout: 'NCHW', channelOrder: 'RGB', scale: 10, mean: [1, 2, 3], std: [2, 4, 5], ...input },
    output: { name: 'out', kind: 'logits', channel: 0, ...output },
    tileSize: 256,
    margin: 32,
    sizeMultiple: 32,
    threshold: 0.5,
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

describe('tileModelInput', () => {
  // 3 x 2 pixels: tissue (pink, purple, dark), glass, tinted glass, ink.
  const tile = {
    width: 3,
    height: 2,
    data: new Uint8Array([190, 90, 170, 90, 50, 130, 120, 110, 100, 250, 250, 250, 240, 236, 245, 10, 10, 10]),
  };
  // Any colour map will do: this one swaps red and blue and darkens green.
  const swap: ColourMap = (c) => ((c & 255) << 16) | ((((c >>> 8) & 255) >> 1) << 8) | (c >>> 16);

  it('maps, normalises, pads with white and counts tissue in one pass, as the steps one by one do', () => {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      for (const channelOrder of ['RGB', 'BGR'] as const) {
        const model = { ...card({ layout, channelOrder }), sizeMultiple: 4 };
        const { values, width, height, tissueFraction } = tileModelInput(tile, model, swap);
        expect([width, height]).toEqual([4, 4]);
        // One by one: map, pad with white (unmapped), normalise.
        const mapped = applyColourMap(tile, swap);
        const padded = new Uint8Array(4 * 4 * 3).fill(255);
        for (let y = 0; y < 2; y++) padded.set(mapped.data.subarray(y * 9, y * 9 + 9), y * 12);
        expect(Array.from(values), `${layout} ${channelOrder}`).toEqual(
          Array.from(toModelInput({ width: 4, height: 4, data: padded }, model)),
        );
        expect(tissueFraction).toBe(tissueShare(tile.data)); // of the pixels as read
        expect(tissueFraction).toBe(3 / 6);
      }
    }
  });

  it('without a colour map gives what toModelInput gives', () => {
    const model = { ...card(), sizeMultiple: 1 };
    expect(Array.from(tileModelInput(tile, model).values)).toEqual(Array.from(toModelInput(tile, model)));
  });
});

describe('model output', () => {
  it('matches the sigmoid through Math.exp to double precision, over the range logits take and beyond', () => {
    const exact = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
    let worst = 0;
    for (let i = 0; i <= 200_000; i++) {
      const x = -100 + i / 1000;
      worst = Math.max(worst, Math.abs(sigmoid(x) - exact(x)) / exact(x));
    }
    expect(worst).toBeLessThan(1e-14);
    expect(Number.isNaN(sigmoid(Number.NaN))).toBe(true);
    expect(sigmoid(Number.POSITIVE_INFINITY)).toBe(1);
    expect(sigmoid(Number.NEGATIVE_INFINITY)).toBe(0);
  });

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
    expect(() => toProbabilityMap(output, [1, 1, 2, 2], card({ layout: 'NHWC' }, { channel: 2 }))).toThrowError(
      /channel 2/,
    );
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
