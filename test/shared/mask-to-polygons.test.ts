import { describe, expect, it } from 'vitest';
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';
import { maskToPolygons } from '@glomseg/shared/mask-to-polygons.js';
import { rasterizePolygons } from '@glomseg/shared/rasterize.js';

const identity = { originX: 0, originY: 0, scale: 1 };

/** A map from rows of '0'/'1' (or digits 0-9 as tenths of probability). */
function mapOf(rows: string[]): ProbabilityMap {
  const width = rows[0].length;
  const data = new Float32Array(width * rows.length);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '1' ? 1 : Number(c) / 10)));
  return { width, height: rows.length, data };
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function disc(width: number, height: number, cx: number, cy: number, r: number): ProbabilityMap {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 < r * r ? 0.9 : 0.1;
  return { width, height, data };
}

describe('maskToPolygons', () => {
  it('traces pixel-edge outlines of 4-connected components', () => {
    const polygons = maskToPolygons(mapOf(['11000', '10100', '11110', '00001']), 0.5, identity, {
      simplifyTolerance: 0,
    });
    expect(polygons).toHaveLength(2); // the lone corner pixel touches the L shape only diagonally
    const [shape, corner] = polygons;
    expect(shape.area).toBe(8);
    expect(shape.exterior).toEqual([
      [2, 0],
      [2, 1],
      [1, 1],
      [1, 2],
      [2, 2],
      [2, 1],
      [3, 1],
      [3, 2],
      [4, 2],
      [4, 3],
      [0, 3],
      [0, 0],
    ]);
    expect(shape.touches).toEqual(['top', 'left']);
    expect(corner).toEqual({
      exterior: [
        [5, 3],
        [5, 4],
        [4, 4],
        [4, 3],
      ],
      holes: [],
      area: 1,
      meanProbability: 1,
      touches: ['right', 'bottom'],
    });
  });

  it('keeps holes and maps to level 0 with the transform', () => {
    const [ring] = maskToPolygons(
      mapOf(['11111', '10001', '11111']),
      0.5,
      { originX: 10, originY: 20, scale: 2 },
      { simplifyTolerance: 0 },
    );
    expect(ring.exterior).toEqual([
      [20, 20],
      [20, 26],
      [10, 26],
      [10, 20],
    ]);
    expect(ring.holes).toEqual([
      [
        [12, 24],
        [18, 24],
        [18, 22],
        [12, 22],
      ],
    ]);
    expect(ring.area).toBe((15 - 3) * 4); // 12 pixels of 2 x 2 level-0 pixels
    expect(ring.touches).toEqual(['top', 'right', 'bottom', 'left']);
  });

  it('fills holes smaller than the smallest object kept (pinholes), keeps larger ones', () => {
    const mask = ['1111111', '1011001', '1011001', '1111111'];
    // Holes of 2 and 4 pixels, 2 x 2 level-0 pixels each: 8 and 16 level-0 square pixels.
    const [polygon] = maskToPolygons(
      mapOf(mask),
      0.5,
      { originX: 0, originY: 0, scale: 2 },
      { simplifyTolerance: 0, minArea: 10 },
    );
    expect(polygon.holes).toHaveLength(1);
    expect(polygon.area).toBe((28 - 4) * 4);
    expect(
      maskToPolygons(mapOf(mask), 0.5, { originX: 0, originY: 0, scale: 2 }, { simplifyTolerance: 0, minArea: 0 })[0]
        .holes,
    ).toHaveLength(2);
  });

  it('includes pixels at the threshold and averages their probability', () => {
    const [blob] = maskToPolygons(mapOf(['000', '059', '000']), 0.5, identity, { simplifyTolerance: 0 });
    expect(blob.area).toBe(2);
    expect(blob.meanProbability).toBeCloseTo(0.7, 6);
    expect(blob.touches).toEqual(['right']);
    expect(maskToPolygons(mapOf(['000', '040', '000']), 0.5, identity)).toEqual([]);
  });

  it('drops components below the minimum level-0 area, but not pieces at the edge (joined first, judged after)', () => {
    const map = mapOf(['0000000', '0110000', '0110100', '0000000']);
    expect(maskToPolygons(map, 0.5, identity, { minArea: 2 }).map((p) => p.area)).toEqual([4]);
    // At scale 2 the single pixel covers 4 level-0 square pixels and the block 16.
    expect(maskToPolygons(map, 0.5, { originX: 0, originY: 0, scale: 2 }, { minArea: 5 }).map((p) => p.area)).toEqual([
      16,
    ]);
    const atEdge = mapOf(['0000001', '0110000', '0110000', '0000000']);
    expect(maskToPolygons(atEdge, 0.5, identity, { minArea: 2 }).map((p) => [p.area, p.touches])).toEqual([
      [1, ['top', 'right']],
      [4, []],
    ]);
  });

  it('rasterises back to exactly the thresholded pixels (random masks, many saddles and holes)', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 5; trial++) {
      const width = 40 + trial;
      const height = 30;
      const data = Float32Array.from({ length: width * height }, () => random());
      const polygons = maskToPolygons(
        { width, height, data },
        0.5,
        { originX: 100, originY: 50, scale: 1 },
        { simplifyTolerance: 0 },
      );
      const mask = rasterizePolygons(polygons, { x: 100, y: 50, width, height });
      const expected = Array.from(data, (v) => (v >= 0.5 ? 1 : 0));
      expect(Array.from(mask)).toEqual(expected);
      const total = expected.reduce((s: number, v) => s + v, 0);
      expect(polygons.reduce((s, p) => s + p.area, 0)).toBe(total);
    }
  });

  it('simplifies outlines but never moves vertices on the map boundary', () => {
    const map = disc(64, 64, 60, 30, 20); // cut by the right edge
    const exact = maskToPolygons(map, 0.5, identity, { simplifyTolerance: 0 });
    const simple = maskToPolygons(map, 0.5, identity, { simplifyTolerance: 1 });
    expect(exact).toHaveLength(1);
    expect(simple).toHaveLength(1);
    expect(simple[0].exterior.length).toBeLessThan(exact[0].exterior.length / 2);
    const onEdge = (ring: Array<[number, number]>) => ring.filter(([x]) => x === 64).map((p) => p.join(','));
    expect(onEdge(exact[0].exterior).length).toBeGreaterThanOrEqual(2);
    expect(onEdge(simple[0].exterior)).toEqual(expect.arrayContaining(onEdge(exact[0].exterior)));
    expect(Math.abs(simple[0].area - exact[0].area) / exact[0].area).toBeLessThan(0.02);
    expect(simple[0].touches).toEqual(['right']);
  });

  it('traces a 512 x 512 map of 16 discs', () => {
    const width = 512;
    const data = new Float32Array(width * width);
    for (let y = 0; y < width; y++)
      for (let x = 0; x < width; x++)
        data[y * width + x] = ((x % 128) - 64) ** 2 + ((y % 128) - 64) ** 2 < 2500 ? 0.9 : 0.1;
    const map = { width, height: width, data };
    const polygons = maskToPolygons(map, 0.5, identity);
    expect(polygons).toHaveLength(16);
    // Each disc of radius 50 px: area within 2 % of pi r^2 (its cost per tile is measured by `npm run bench`).
    for (const p of polygons) expect(Math.abs(p.area - Math.PI * 2500) / (Math.PI * 2500)).toBeLessThan(0.02);
  });

  it('rejects a map whose data does not match its size', () => {
    expect(() => maskToPolygons({ width: 3, height: 3, data: new Float32Array(8) }, 0.5, identity)).toThrowError(
      /expected 9/,
    );
  });
});
