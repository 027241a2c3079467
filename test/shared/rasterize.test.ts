import { describe, expect, it } from 'vitest';
import type { Polygon } from '@glomseg/shared/geometry.js';
import {
  countPolygonPixels,
  polygonArea,
  polygonBBox,
  rasterizePolygons,
  ringSignedArea,
} from '@glomseg/shared/rasterize.js';

const square = (x: number, y: number, size: number): Polygon => ({
  exterior: [
    [x, y],
    [x + size, y],
    [x + size, y + size],
    [x, y + size],
  ],
  holes: [],
});

describe('polygonArea and polygonBBox', () => {
  it('computes the shoelace area minus holes', () => {
    expect(
      ringSignedArea([
        [0, 0],
        [2, 0],
        [2, 3],
        [0, 3],
      ]),
    ).toBe(6); // clockwise on screen: positive
    expect(
      ringSignedArea([
        [0, 0],
        [0, 3],
        [2, 3],
        [2, 0],
      ]),
    ).toBe(-6);
    const framed: Polygon = {
      exterior: square(0, 0, 4).exterior,
      holes: [
        [
          [1, 1],
          [1, 3],
          [3, 3],
          [3, 1],
        ],
      ],
    };
    expect(polygonArea(framed)).toBe(12);
    expect(
      polygonArea({
        exterior: [
          [0, 0],
          [4, 0],
          [0, 4],
        ],
        holes: [],
      }),
    ).toBe(8);
  });

  it('bounds the exterior', () => {
    expect(
      polygonBBox({
        exterior: [
          [3, -1],
          [7, 2],
          [5, 9],
        ],
        holes: [],
      }),
    ).toEqual({ x: 3, y: -1, width: 4, height: 10 });
  });
});

describe('rasterizePolygons', () => {
  it('fills the pixels whose centres are inside', () => {
    expect(Array.from(rasterizePolygons([square(0, 0, 2)], { x: 0, y: 0, width: 3, height: 3 }))).toEqual([
      1, 1, 0, 1, 1, 0, 0, 0, 0,
    ]);
    expect(countPolygonPixels([square(0.4, 0.4, 1.2)], { x: 0, y: 0, width: 3, height: 3 })).toBe(4);
    expect(countPolygonPixels([square(0.6, 0.6, 0.8)], { x: 0, y: 0, width: 3, height: 3 })).toBe(0);
  });

  it('rasterises a triangle by pixel centres (x + y < 4 holds for 3 + 2 + 1 centres)', () => {
    const mask = rasterizePolygons(
      [
        {
          exterior: [
            [0, 0],
            [4, 0],
            [0, 4],
          ],
          holes: [],
        },
      ],
      { x: 0, y: 0, width: 4, height: 4 },
    );
    expect(Array.from(mask)).toEqual([1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('leaves holes empty and ORs overlapping polygons', () => {
    const framed: Polygon = { exterior: square(0, 0, 4).exterior, holes: [square(1, 1, 2).exterior] };
    expect(countPolygonPixels([framed], { x: 0, y: 0, width: 4, height: 4 })).toBe(12);
    expect(countPolygonPixels([square(0, 0, 2), square(1, 0, 2)], { x: 0, y: 0, width: 4, height: 4 })).toBe(6);
  });

  it('rasterises only the window, at the window offset', () => {
    expect(Array.from(rasterizePolygons([square(0, 0, 2)], { x: 1, y: 1, width: 2, height: 2 }))).toEqual([1, 0, 0, 0]);
    expect(countPolygonPixels([square(100, 100, 50)], { x: 120, y: 90, width: 10, height: 20 })).toBe(10 * 10);
  });

  it('reuses and clears a buffer', () => {
    const buffer = new Uint8Array(16).fill(7);
    const mask = rasterizePolygons([square(0, 0, 1)], { x: 0, y: 0, width: 3, height: 3 }, buffer);
    expect(mask.length).toBe(9);
    expect(Array.from(mask)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => rasterizePolygons([], { x: 0, y: 0, width: 5, height: 5 }, buffer)).toThrowError(/needs 25/);
    expect(() => rasterizePolygons([], { x: 0.5, y: 0, width: 5, height: 5 })).toThrowError(/integer/);
  });

  it('matches the exact area of a large axis-aligned polygon with a hole', () => {
    const framed: Polygon = { exterior: square(10, 20, 300).exterior, holes: [square(50, 60, 100).exterior] };
    expect(countPolygonPixels([framed], { x: 0, y: 0, width: 400, height: 400 })).toBe(polygonArea(framed));
  });
});
