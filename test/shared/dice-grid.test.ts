/** The Dice grid and window counts that the CLI's Dice and the plugin's live Dice both count with. */
import { describe, expect, it } from 'vitest';
import { countDicePixels, diceGrid } from '@glomseg/shared/dice-grid.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';

/** Random polygons (star-shaped, so simple) over a region, from a seeded generator. */
function polygons(count: number, seed: number, width: number, height: number): Polygon[] {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => {
    const cx = random() * width;
    const cy = random() * height;
    const r = 20 + random() * 120;
    const exterior = Array.from({ length: 9 }, (_, k) => {
      const angle = (k / 9) * 2 * Math.PI;
      const radius = r * (0.6 + 0.4 * random());
      return [cx + radius * Math.cos(angle), cy + radius * Math.sin(angle)] as [number, number];
    });
    return { exterior, holes: [] };
  });
}

describe('diceGrid', () => {
  it('snaps the region outward to whole pixels and cuts it into tiles, the last column and row clipped', () => {
    const grid = diceGrid({ x: 10.5, y: 0.2, width: 3300, height: 1300 }, { tileWidth: 1600, tileHeight: 1200 });
    expect(grid.region).toEqual({ x: 10, y: 0, width: 3301, height: 1301 });
    expect([grid.cols, grid.tileCount]).toEqual([3, 6]);
    expect(grid.tileRect(2)).toEqual({ x: 3210, y: 0, width: 101, height: 1200 });
    expect(grid.tileRect(5)).toEqual({ x: 3210, y: 1200, width: 101, height: 101 });
    expect(() => grid.tileRect(6)).toThrow(/outside the grid of 6 tiles/);
    expect(() => diceGrid({ x: 0, y: 0, width: 10, height: 10 }, { tileWidth: 1.5 })).toThrow(/positive whole pixels/);
  });
});

describe('countDicePixels', () => {
  it('counts the same pixels whatever windows cut the region: any partition sums to the whole', () => {
    const region: Rect = { x: 0, y: 0, width: 1000, height: 700 };
    const predicted = polygons(30, 1, region.width, region.height);
    const truth = polygons(25, 2, region.width, region.height);
    const whole = countDicePixels(predicted, truth, region);
    expect(whole.intersection).toBeGreaterThan(0);
    // Windows of an odd size, as the plugin's model-tile windows are (rounded tile bounds).
    for (const [w, h] of [
      [97, 131],
      [333, 700],
      [1000, 1],
    ]) {
      const grid = diceGrid(region, { tileWidth: w, tileHeight: h });
      const sum = { predicted: 0, truth: 0, intersection: 0 };
      for (let i = 0; i < grid.tileCount; i++) {
        const counts = countDicePixels(predicted, truth, grid.tileRect(i));
        sum.predicted += counts.predicted;
        sum.truth += counts.truth;
        sum.intersection += counts.intersection;
      }
      expect(sum, `${w} x ${h} windows`).toEqual(whole);
    }
  });
});
