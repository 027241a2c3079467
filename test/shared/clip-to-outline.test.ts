import { describe, expect, it } from 'vitest';
import { clipToOutline } from '@glomseg/shared/clip-to-outline.js';
import type { Polygon, Ring } from '@glomseg/shared/geometry.js';
import { polygonArea } from '@glomseg/shared/rasterize.js';

const rect = (x: number, y: number, w: number, h: number): Ring => [
  [x, y],
  [x + w, y],
  [x + w, y + h],
  [x, y + h],
];
const poly = (exterior: Ring, holes: Ring[] = []): Polygon => ({ exterior, holes });

describe('clipToOutline', () => {
  it('keeps what lies inside, cuts what crosses, drops what lies outside', () => {
    const outline = poly(rect(0, 0, 100, 100));
    const pieces = clipToOutline(
      [poly(rect(10, 10, 20, 20)), poly(rect(90, 0, 20, 10)), poly(rect(200, 0, 5, 5))],
      outline,
    );
    expect(pieces.map(polygonArea)).toEqual([400, 100]);
    // Open rings, as the rest of the code keeps them.
    expect(pieces[0]!.exterior).toHaveLength(4);
  });

  it('a concave outline cuts a polygon in two; an outline hole is left out', () => {
    const u: Ring = [
      [0, 0],
      [30, 0],
      [30, 20],
      [70, 20],
      [70, 0],
      [100, 0],
      [100, 50],
      [0, 50],
    ];
    const split = clipToOutline([poly(rect(10, 5, 80, 10))], poly(u));
    expect(split.map(polygonArea).sort((a, b) => a - b)).toEqual([200, 200]);
    const holed = clipToOutline([poly(rect(0, 0, 100, 100))], poly(rect(0, 0, 100, 100), [rect(40, 40, 20, 20)]));
    expect(holed.map(polygonArea)).toEqual([9600]);
  });
});
