import { describe, expect, it } from 'vitest';
import { probabilityRaster } from '@glomseg/shared/probability-raster.js';
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';

/** A map whose value at (x, y) is `at(x, y)`. */
function mapOf(width: number, height: number, at: (x: number, y: number) => number, logits = false): ProbabilityMap {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = at(x, y);
  return { width, height, data, logits };
}

describe('probabilityRaster', () => {
  it('takes the kept rectangle only, one byte of round(255 p) a pixel, when it fits', () => {
    // The margin (outside x 2..5, y 1..3) is 1; the kept part holds x / 10.
    const map = mapOf(8, 5, (x, y) => (x >= 2 && x < 6 && y >= 1 && y < 4 ? (x - 2) / 10 : 1));
    const raster = probabilityRaster(map, { keepX: 2, keepY: 1, keepWidth: 4, keepHeight: 3 }, 8);
    expect([raster.width, raster.height]).toEqual([4, 3]);
    expect([...raster.levels]).toEqual([0, 26, 51, 77, 0, 26, 51, 77, 0, 26, 51, 77]);
  });

  it('averages whole blocks until the longer edge fits, a short last block averaging what it has', () => {
    // 5 x 2 kept pixels into at most 2 across: blocks of 3 (x 0..2, then x 3..4).
    const map = mapOf(5, 2, (x) => [0, 0.3, 0.6, 1, 0.5][x]);
    const raster = probabilityRaster(map, { keepX: 0, keepY: 0, keepWidth: 5, keepHeight: 2 }, 2);
    expect([raster.width, raster.height]).toEqual([2, 1]);
    expect([...raster.levels]).toEqual([Math.round(255 * 0.3), Math.round(255 * 0.75)]);
  });

  it('reads a logit map as probabilities, and clamps what is not one', () => {
    const logits = mapOf(2, 1, (x) => [0, Number.POSITIVE_INFINITY][x], true);
    expect([...probabilityRaster(logits, { keepX: 0, keepY: 0, keepWidth: 2, keepHeight: 1 }).levels]).toEqual([
      128, 255,
    ]);
    const odd = mapOf(3, 1, (x) => [-0.5, 1.5, Number.NaN][x]);
    expect([...probabilityRaster(odd, { keepX: 0, keepY: 0, keepWidth: 3, keepHeight: 1 }).levels]).toEqual([
      0, 255, 0,
    ]);
  });

  it('sends a 256-pixel model tile at 128 x 128 by default', () => {
    const map = mapOf(320, 320, () => 0.5);
    const raster = probabilityRaster(map, { keepX: 32, keepY: 32, keepWidth: 256, keepHeight: 200 });
    expect([raster.width, raster.height, raster.levels.length]).toEqual([128, 100, 12800]);
  });
});
