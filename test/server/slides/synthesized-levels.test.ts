import { describe, expect, it } from 'vitest';
import { planPyramid, readSynthesizedRegion } from '../../../server/src/slides/synthesized-levels.js';

const level = (width: number, height: number) => ({ width, height, tileWidth: 256, tileHeight: 256 });

describe('planPyramid', () => {
  it('adds factor-2 levels below a single level until the longer edge is at most 1024', () => {
    const plan = planPyramid([level(2220, 2967)]);
    expect(plan.levels.map((l) => [l.width, l.height, l.synthesized])).toEqual([
      [2220, 2967, false],
      [1110, 1484, true],
      [555, 742, true],
    ]);
    expect(plan.recipes).toEqual([
      { realIndex: 0, factor: 1 },
      { realIndex: 0, factor: 2 },
      { realIndex: 0, factor: 4 },
    ]);
  });

  it('fills gaps of 4x between stored levels, not gaps of 2x', () => {
    const plan = planPyramid([level(40000, 30000), level(10000, 7500), level(2500, 1875), level(1250, 938)]);
    expect(plan.levels.map((l) => [l.width, l.downsample, l.synthesized])).toEqual([
      [40000, 1, false],
      [20000, 2, true],
      [10000, 4, false],
      [5000, 8, true],
      [2500, 16, false],
      [1250, 32, false],
      [625, 64, true],
    ]);
  });

  it('adds nothing to a complete pyramid', () => {
    expect(
      planPyramid([level(6400, 4800), level(3200, 2400), level(1600, 1200), level(800, 600)]).levels.every(
        (l) => !l.synthesized,
      ),
    ).toBe(true);
  });
});

describe('readSynthesizedRegion', () => {
  it('refuses, before reading anything, a region that needs more than the source-pixel limit', async () => {
    const readReal = async () => {
      throw new Error('must not read');
    };
    const attempt = readSynthesizedRegion(
      readReal,
      { realIndex: 0, width: 100_000, height: 100_000 },
      64,
      { width: 1563, height: 1563 },
      { level: 6, x: 0, y: 0, width: 1563, height: 1563 },
    );
    await expect(attempt).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
  });

  it('reads large regions band by band, each band bounded', async () => {
    const widths: number[] = [];
    const heights: number[] = [];
    const readReal = async (_i: number, _x: number, _y: number, width: number, height: number) => {
      widths.push(width);
      heights.push(height);
      return { width, height, data: new Uint8Array(width * height * 3).fill(100) };
    };
    const out = await readSynthesizedRegion(
      readReal,
      { realIndex: 0, width: 4000, height: 9000 },
      4,
      { width: 1000, height: 2250 },
      { level: 2, x: 0, y: 0, width: 1000, height: 2250 },
    );
    expect(heights.length).toBeGreaterThan(1);
    expect(Math.max(...heights.map((h, i) => h * widths[i]))).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(heights.reduce((a, b) => a + b, 0)).toBe(9000);
    expect(out.data.every((v) => v === 100)).toBe(true);
  });
});
