import { describe, expect, it } from 'vitest';
import { rgbToLab } from '@glomseg/shared/colour-lab.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { applyReinhard, measureStainStatistics, MIN_TISSUE_PIXELS, resolveStainMethod } from '@glomseg/shared/stain-normalization.js';

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
    expect(measureStainStatistics(image([[190, 90, 170], [255, 255, 255]], [MIN_TISSUE_PIXELS - 1, 5000]))).toBeUndefined();
  });

  it('maps statistics onto themselves as the identity, within a level of rounding', () => {
    const img = pattern(0);
    const stats = measureStainStatistics(img)!;
    const out = applyReinhard(img, { method: 'reinhard', from: stats, to: stats });
    let worst = 0;
    for (let i = 0; i < img.data.length; i++) worst = Math.max(worst, Math.abs(out.data[i] - img.data[i]));
    expect(worst).toBeLessThanOrEqual(1);
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
    expect(() => resolveStainMethod('macenko' as never, card({ method: 'off', reference }))).toThrowError(/unknown stain normalisation 'macenko'/);
  });
});
