import { describe, expect, it } from 'vitest';
import { labToRgb, rgbToLab } from '@glomseg/shared/colour-lab.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import {
  applyColourMap,
  applyReinhard,
  measureStainStatistics,
  MIN_TISSUE_PIXELS,
  reinhardMapper,
  resolveStainMethod,
  type Triple,
} from '@glomseg/shared/stain-normalization.js';

/** `counts[i]` pixels of `colours[i]`, in one row. */
function image(colours: Array<[number, number, number]>, counts: number[]): RgbImage {
  const total = counts.reduce((a, b) => a + b, 0);
  const data = new Uint8Array(total * 3);
  let p = 0;
  colours.forEach((c, i) => {
    for (let k = 0; k < counts[i]; k++, p++) data.set(c, p * 3);
  });
  return { width: total, height: 1, data };
}

/** A PAS-like test pattern: a smooth range of pinks and purples on glass. */
function pattern(pale: number): RgbImage {
  const width = 200;
  const height = 100;
  const data = new Uint8Array(width * height * 3).fill(255);
  for (let y = 0; y < height; y++) {
    for (let x = 20; x < width - 20; x++) {
      const t = x / width;
      const u = y / height;
      const rgb = [150 + 60 * t, 60 + 80 * u, 140 + 50 * t * u].map((v) => Math.round(v + (255 - v) * pale));
      data.set(rgb, (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

const card = (stain?: ModelCard['stain']) => ({ id: 'm', stain }) as ModelCard;

describe('stain-normalization', () => {
  it('measures mean and spread of L, a, b over tissue only (glass left out)', () => {
    const pink: [number, number, number] = [190, 90, 170];
    const purple: [number, number, number] = [90, 50, 130];
    const stats = measureStainStatistics(image([pink, purple, [255, 255, 255]], [600, 600, 3000]))!;
    const a = rgbToLab(...pink);
    const b = rgbToLab(...purple);
    for (let c = 0; c < 3; c++) {
      expect(stats.mean[c]).toBeCloseTo((a[c] + b[c]) / 2, 6);
      expect(stats.std[c]).toBeCloseTo(Math.abs(a[c] - b[c]) / 2, 6);
    }
    expect(stats.tissuePixels).toBe(1200);
    expect(stats.tissueFraction).toBeCloseTo(1200 / 4200, 9);
  });

  it('measures nothing on a slide with too little tissue', () => {
    expect(
      measureStainStatistics(
        image(
          [
            [190, 90, 170],
            [255, 255, 255],
          ],
          [MIN_TISSUE_PIXELS - 1, 5000],
        ),
      ),
    ).toBeUndefined();
  });

  it('maps statistics onto themselves as the identity, within a level of rounding', () => {
    const img = pattern(0);
    const stats = measureStainStatistics(img)!;
    const out = applyReinhard(img, { method: 'reinhard', from: stats, to: stats });
    let worst = 0;
    for (let i = 0; i < img.data.length; i++) worst = Math.max(worst, Math.abs(out.data[i] - img.data[i]));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('maps each pixel as the per-pixel formulas do, also through a colour map reused across images', () => {
    const from = { mean: [62, 24, -15] as Triple, std: [14, 7, 6] as Triple };
    const to = { mean: [47, 36, -28] as Triple, std: [10.5, 9.8, 6.7] as Triple };
    const mapping = { method: 'reinhard' as const, from, to };
    const expected = (r: number, g: number, b: number): Triple => {
      const [L, A, B] = rgbToLab(r, g, b);
      return labToRgb(
        (L - from.mean[0]) * (to.std[0] / from.std[0]) + to.mean[0],
        (A - from.mean[1]) * (to.std[1] / from.std[1]) + to.mean[1],
        (B - from.mean[2]) * (to.std[2] / from.std[2]) + to.mean[2],
      );
    };
    // Two images with many colours each, repeated, so the memo fills, collides and is read back across images.
    const colours = (seed: number): RgbImage => {
      const data = new Uint8Array(3 * 200_000);
      let state = seed;
      for (let p = 0; p < 200_000; p++) {
        if (p % 3 === 0) state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        data[p * 3] = state & 255;
        data[p * 3 + 1] = (state >>> 8) & 255;
        data[p * 3 + 2] = (state >>> 16) & 255;
      }
      return { width: 1000, height: 200, data };
    };
    // And every colour of a 4-level lattice (262,144 of them, as many as the memo has slots), twice: each slot is
    // claimed by several colours in turn, and a hit must still answer for its own colour only.
    const lattice = (): RgbImage => {
      const data = new Uint8Array(3 * 64 ** 3);
      for (let p = 0; p < 64 ** 3; p++) {
        data[p * 3] = (p >> 12) * 4;
        data[p * 3 + 1] = ((p >> 6) & 63) * 4 + 1;
        data[p * 3 + 2] = (p & 63) * 4 + 2;
      }
      return { width: 64 ** 2, height: 64, data };
    };
    const mapper = reinhardMapper(mapping);
    for (const img of [colours(1), colours(2), colours(1), lattice(), lattice()]) {
      const out = applyColourMap(img, mapper);
      for (let i = 0; i < img.data.length; i += 3) {
        const want = expected(img.data[i], img.data[i + 1], img.data[i + 2]);
        if (out.data[i] !== want[0] || out.data[i + 1] !== want[1] || out.data[i + 2] !== want[2]) {
          expect(
            [...out.data.subarray(i, i + 3)],
            `pixel ${i / 3} of [${img.data.subarray(i, i + 3).join(', ')}]`,
          ).toEqual(want);
        }
      }
    }
  });

  it('gives a paler slide the statistics of the reference', () => {
    const reference = measureStainStatistics(pattern(0))!;
    const pale = pattern(0.45);
    const before = measureStainStatistics(pale)!;
    expect(Math.abs(before.mean[0] - reference.mean[0])).toBeGreaterThan(10); // the test is not trivial
    const after = measureStainStatistics(applyReinhard(pale, { method: 'reinhard', from: before, to: reference }))!;
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(after.mean[c] - reference.mean[c])).toBeLessThan(1);
      expect(Math.abs(after.std[c] - reference.std[c])).toBeLessThan(1);
    }
  });

  it("resolves a request against the card: auto is the card's method, a named one needs the card's reference", () => {
    const reference = { mean: [70, 20, -10], std: [10, 8, 6] } as NonNullable<ModelCard['stain']>['reference'];
    expect(resolveStainMethod('auto', card())).toBeUndefined();
    expect(resolveStainMethod(undefined, card({ method: 'off', reference }))).toBeUndefined();
    expect(resolveStainMethod('auto', card({ method: 'reinhard', reference }))).toBe('reinhard');
    expect(resolveStainMethod('reinhard', card({ method: 'off', reference }))).toBe('reinhard');
    expect(resolveStainMethod('off', card({ method: 'reinhard', reference }))).toBeUndefined();
    expect(() => resolveStainMethod('reinhard', card())).toThrowError(GlomsegError);
    expect(() => resolveStainMethod('reinhard', card())).toThrowError(/no reference stain statistics/);
    expect(() => resolveStainMethod('macenko' as never, card({ method: 'off', reference }))).toThrowError(
      /unknown stain normalisation 'macenko'/,
    );
  });
});
