import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Polygon } from '@glomseg/shared/geometry.js';
import { parseAnnotations } from '@glomseg/shared/annotations.js';
import { decodeMaskRle, encodeMaskRle, encodePolygonsRle, rleToPolygons } from '@glomseg/shared/rle.js';
import { rasterizePolygons } from '@glomseg/shared/rasterize.js';
import { DATA as dataDir } from '../helpers/paths.js';

// A 4 x 3 mask, row-major:
//   1 1 0 0
//   0 1 0 1
//   0 1 0 1
// Column-major numbering from 1: column 0 is pixels 1-3, column 1 is 4-6, column 2 is 7-9, column 3 is 10-12.
const mask4x3 = new Uint8Array([1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1]);

describe('mask RLE', () => {
  it('encodes column-major, 1-indexed start/length pairs', () => {
    expect(encodeMaskRle(mask4x3, 4, 3)).toBe('1 1 4 3 11 2');
    expect(encodeMaskRle(new Uint8Array(12), 4, 3)).toBe('');
    expect(encodeMaskRle(new Uint8Array(12).fill(1), 4, 3)).toBe('1 12');
  });

  it('continues a run from the bottom of one column to the top of the next', () => {
    const mask = mask4x3.slice();
    mask[2 * 4 + 0] = 1; // pixel 3 (column 0, row 2) joins pixels 4-6
    expect(encodeMaskRle(mask, 4, 3)).toBe('1 1 3 4 11 2');
  });

  it('decodes back to the mask', () => {
    expect(Array.from(decodeMaskRle('1 1 4 3 11 2', 4, 3))).toEqual(Array.from(mask4x3));
    expect(Array.from(decodeMaskRle('  1 1\n4 3   11 2 ', 4, 3))).toEqual(Array.from(mask4x3));
    expect(Array.from(decodeMaskRle('', 4, 3))).toEqual(new Array(12).fill(0));
  });

  it('rejects malformed RLE with the reason', () => {
    expect(() => decodeMaskRle('1 1 4', 4, 3)).toThrowError(/"start length" pairs/);
    expect(() => decodeMaskRle('1 1 x 3', 4, 3)).toThrowError(/pair 2/);
    expect(() => decodeMaskRle('0 2', 4, 3)).toThrowError(/start >= 1/);
    expect(() => decodeMaskRle('5 2 1 2', 4, 3)).toThrowError(/sorted/);
    expect(() => decodeMaskRle('11 3', 4, 3)).toThrowError(/past the last pixel \(12\)/);
    expect(() => decodeMaskRle('1 1', 0, 3)).toThrowError(/positive whole pixels/);
  });
});

describe('polygon RLE in bands', () => {
  it('matches the whole-mask encoding on hand-made polygons, whatever the band width', () => {
    const polygons: Polygon[] = [
      {
        exterior: [
          [1, 1],
          [6, 1],
          [6, 5],
          [1, 5],
        ],
        holes: [
          [
            [2, 2],
            [4, 2],
            [4, 4],
            [2, 4],
          ],
        ],
      },
      {
        exterior: [
          [5, 0],
          [9, 3],
          [5, 6],
        ],
        holes: [],
      },
    ];
    const expected = encodeMaskRle(rasterizePolygons(polygons, { x: 0, y: 0, width: 10, height: 6 }), 10, 6);
    expect(expected).not.toBe('');
    for (const bandWidth of [1, 3, 4, 10]) expect(encodePolygonsRle(polygons, 10, 6, { bandWidth })).toBe(expected);
  });

  it('round-trips the evaluation region ground truth through RLE and back to polygons', () => {
    const truth = parseAnnotations(
      readFileSync(path.join(dataDir, 'hubmap-vu/eval-region/kidney-region.geojson'), 'utf8'),
    );
    // The top-left quadrant of the region keeps the test quick; glomeruli crossing its edges are clipped.
    const [width, height] = [3200, 2400];
    const inQuadrant = truth.filter((p) => p.exterior.some(([x, y]) => x < width && y < height)).length;
    expect(inQuadrant).toBeGreaterThan(10);
    const crossingSeams = truth.filter((p) => {
      const xs = p.exterior.map(([x]) => x);
      return Math.floor(Math.min(...xs) / 500) !== Math.floor(Math.max(...xs) / 500) && Math.min(...xs) < width;
    });
    expect(crossingSeams.length).toBeGreaterThan(3); // so the band join below is exercised
    const mask = rasterizePolygons(truth, { x: 0, y: 0, width, height });
    const rle = encodePolygonsRle(truth, width, height, { bandWidth: 700 });
    expect(rle).toBe(encodeMaskRle(mask, width, height));
    // (Buffer.compare: a deep equality over millions of elements is very slow.)
    expect(Buffer.compare(decodeMaskRle(rle, width, height), mask)).toBe(0);

    // Traced in bands of 500 columns (seams at x = 500, 1000, ...) and joined: the exact pixel outlines.
    const polygons = rleToPolygons(rle, width, height, { bandWidth: 500 });
    expect(Math.abs(polygons.length - inQuadrant)).toBeLessThanOrEqual(2); // touching glomeruli may merge
    expect(polygons.every((p) => p.touches.length === 0 && p.meanProbability === 1)).toBe(true);
    const pixels = mask.reduce((s, v) => s + v, 0);
    expect(polygons.reduce((s, p) => s + p.area, 0)).toBe(pixels);
    expect(encodePolygonsRle(polygons, width, height)).toBe(rle);
  });
});
