import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Polygon, Ring } from '@glomseg/shared/geometry.js';
import { parseAnnotations } from '@glomseg/shared/annotations.js';
import { crossesItself, repairPolygon } from '@glomseg/shared/polygon-repair.js';
import { countPolygonPixels, polygonArea } from '@glomseg/shared/rasterize.js';
import { starRing } from '../../server/src/bench/hostile-inputs.js';
import { KIDNEY_REGION_GEOJSON } from '../helpers/paths.js';

const polygon = (exterior: Ring, holes: Ring[] = []): Polygon => ({ exterior, holes });
const BOW_TIE = polygon([
  [100, 100],
  [300, 300],
  [300, 100],
  [100, 300],
]);

/** Every pair of edges compared (neighbours only for turning straight back): the slow reference. */
function crossesByBruteForce(p: Polygon): boolean {
  const edges = [p.exterior, ...p.holes].flatMap((ring, r) =>
    ring.map((a, i) => ({ r, i, n: ring.length, a, b: ring[(i + 1) % ring.length] })),
  );
  const orient = (a: number[], b: number[], c: number[]) =>
    Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
  const within = (a: number[], b: number[], c: number[]) =>
    Math.min(a[0], b[0]) <= c[0] &&
    c[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= c[1] &&
    c[1] <= Math.max(a[1], b[1]);
  for (let x = 0; x < edges.length; x++) {
    for (let y = x + 1; y < edges.length; y++) {
      const [e, f] = [edges[x], edges[y]];
      if (e.r === f.r && (Math.abs(e.i - f.i) === 1 || Math.abs(e.i - f.i) === e.n - 1)) {
        const [s, p, q] = e.b === f.a ? [e.b, e.a, f.b] : [e.a, e.b, f.a];
        if (orient(s, p, q) === 0 && (p[0] - s[0]) * (q[0] - s[0]) + (p[1] - s[1]) * (q[1] - s[1]) > 0) return true;
        continue;
      }
      const [o1, o2, o3, o4] = [
        orient(e.a, e.b, f.a),
        orient(e.a, e.b, f.b),
        orient(f.a, f.b, e.a),
        orient(f.a, f.b, e.b),
      ];
      if (
        (o1 !== o2 && o3 !== o4) ||
        (o1 === 0 && within(e.a, e.b, f.a)) ||
        (o2 === 0 && within(e.a, e.b, f.b)) ||
        (o3 === 0 && within(f.a, f.b, e.a)) ||
        (o4 === 0 && within(f.a, f.b, e.b))
      )
        return true;
    }
  }
  return false;
}

describe('crossesItself', () => {
  it('passes every glomerulus of the evaluation region, a hole inside its exterior and a 9,999-point star', () => {
    for (const p of parseAnnotations(readFileSync(KIDNEY_REGION_GEOJSON, 'utf8'))) expect(crossesItself(p)).toBe(false);
    expect(
      crossesItself(
        polygon(
          [
            [0, 0],
            [10, 0],
            [10, 10],
            [0, 10],
          ],
          [
            [
              [2, 2],
              [2, 4],
              [4, 4],
              [4, 2],
            ],
          ],
        ),
      ),
    ).toBe(false);
    expect(crossesItself(polygon(starRing(9_999, 3200, 2400, 500, 2300)))).toBe(false);
  });

  it('finds a bow tie, a pinch, an outline turning back on itself, a hole crossing or outside its exterior', () => {
    expect(crossesItself(BOW_TIE)).toBe(true);
    expect(
      crossesItself(
        polygon([
          [0, 0],
          [10, 0],
          [5, 5],
          [10, 10],
          [0, 10],
          [5, 5],
        ]),
      ),
    ).toBe(true); // two lobes touching at (5, 5)
    expect(
      crossesItself(
        polygon([
          [0, 0],
          [10, 0],
          [5, 0],
          [5, 5],
        ]),
      ),
    ).toBe(true);
    expect(
      crossesItself(
        polygon(
          [
            [0, 0],
            [10, 0],
            [10, 10],
            [0, 10],
          ],
          [
            [
              [5, 5],
              [15, 5],
              [15, 8],
            ],
          ],
        ),
      ),
    ).toBe(true);
    expect(
      crossesItself(
        polygon(
          [
            [0, 0],
            [10, 0],
            [10, 10],
            [0, 10],
          ],
          [
            [
              [20, 20],
              [24, 20],
              [24, 24],
            ],
          ],
        ),
      ),
    ).toBe(true);
  });

  it('agrees with comparing every pair of edges on random polygons', () => {
    const point = fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }));
    const ring = fc
      .array(point, { minLength: 3, maxLength: 9 })
      .map((points) => {
        const out: Ring = [];
        for (const [x, y] of points) if (!out.length || out.at(-1)![0] !== x || out.at(-1)![1] !== y) out.push([x, y]);
        while (out.length > 1 && out[0][0] === out.at(-1)![0] && out[0][1] === out.at(-1)![1]) out.pop();
        return out;
      })
      .filter((r) => r.length >= 3);
    fc.assert(
      fc.property(ring, (exterior) => {
        const p = polygon(exterior);
        expect(crossesItself(p)).toBe(crossesByBruteForce(p));
      }),
      { numRuns: 2000, seed: 26 },
    );
  });
});

describe('repairPolygon', () => {
  it('cuts a bow tie into its two triangles: the pixels rasterised are those the pieces count', () => {
    // The even-odd rule fills both triangles while the shoelace area cancels: counted as nothing, drawn as something.
    expect(polygonArea(BOW_TIE)).toBe(0);
    const window = { x: 0, y: 0, width: 400, height: 400 };
    expect(countPolygonPixels([BOW_TIE], window)).toBeGreaterThan(19_000);
    const pieces = repairPolygon(BOW_TIE);
    expect(pieces).toHaveLength(2);
    expect(pieces.map(polygonArea)).toEqual([10_000, 10_000]);
    expect(pieces.every((p) => !crossesItself(p))).toBe(true);
    expect(countPolygonPixels(pieces, window)).toBeCloseTo(
      pieces.reduce((a, p) => a + polygonArea(p), 0),
      -3,
    );
  });

  it('keeps a simple polygon as it is (up to where its ring starts), drops one that encloses nothing', () => {
    const [square] = repairPolygon(
      polygon([
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
      ]),
    );
    expect(polygonArea(square)).toBe(100);
    expect(square.exterior).toHaveLength(4);
    expect(
      repairPolygon(
        polygon([
          [0, 0],
          [10, 0],
          [5, 0],
        ]),
      ),
    ).toEqual([]);
  });
});
