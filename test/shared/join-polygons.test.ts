import { describe, expect, it } from 'vitest';
import type { GlomerulusPolygon, TileEdge } from '@glomseg/shared/geometry.js';
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';
import { joinAcrossTiles } from '@glomseg/shared/join-polygons.js';
import { maskToPolygons } from '@glomseg/shared/mask-to-polygons.js';
import { cropProbability } from '@glomseg/shared/preprocess.js';

function piece(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  meanProbability: number,
  touches: TileEdge[],
): GlomerulusPolygon {
  return {
    exterior: [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ],
    holes: [],
    area: (x1 - x0) * (y1 - y0),
    meanProbability,
    touches,
  };
}

/** A 128 x 64 map: a ring (disc of radius `outer` minus radius `inner`) centred on the seam at x = 64. */
function seamMap(outer: number, inner = 0): { map: ProbabilityMap; pixels: number } {
  const width = 128;
  const height = 64;
  const data = new Float32Array(width * height);
  let pixels = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d2 = (x + 0.5 - 64) ** 2 + (y + 0.5 - 30) ** 2;
      const inside = d2 < outer * outer && d2 >= inner * inner;
      data[y * width + x] = inside ? 0.9 : 0.1;
      pixels += inside ? 1 : 0;
    }
  }
  return { map: { width, height, data }, pixels };
}

/** Cuts the map into its left and right tiles and traces each with its own transform (scale 2, origin 1000, 500). */
function tracePieces(map: ProbabilityMap, simplifyTolerance: number): GlomerulusPolygon[] {
  const scale = 2;
  const left = cropProbability(map, 0, 0, 64, map.height);
  const right = cropProbability(map, 64, 0, 64, map.height);
  return [
    ...maskToPolygons(left, 0.5, { originX: 1000, originY: 500, scale }, { simplifyTolerance }),
    ...maskToPolygons(right, 0.5, { originX: 1000 + 64 * scale, originY: 500, scale }, { simplifyTolerance }),
  ];
}

describe('joinAcrossTiles', () => {
  it('joins the two halves of a disc cut by a tile border into one polygon of the disc area', () => {
    const { map, pixels } = seamMap(25);
    const pieces = tracePieces(map, 0);
    expect(pieces).toHaveLength(2);
    expect(pieces[0].touches).toEqual(['right']);
    expect(pieces[1].touches).toEqual(['left']);
    const joined = joinAcrossTiles(pieces);
    expect(joined).toHaveLength(1);
    expect(joined[0].area).toBe(pixels * 4); // each model pixel covers 2 x 2 level-0 pixels
    expect(joined[0].touches).toEqual([]);
    expect(joined[0].holes).toEqual([]);
    expect(joined[0].meanProbability).toBeCloseTo(0.9, 6);
  });

  it('joins simplified pieces exactly along the border', () => {
    const { map, pixels } = seamMap(25);
    const joined = joinAcrossTiles(tracePieces(map, 0.75));
    expect(joined).toHaveLength(1);
    expect(Math.abs(joined[0].area - pixels * 4) / (pixels * 4)).toBeLessThan(0.02);
    // No vertex of the joined outline sits on the seam (x = 1128) except where the outline crosses it.
    expect(joined[0].exterior.filter(([x]) => x === 1128)).toHaveLength(2);
  });

  it('restores a hole that the border cut in two', () => {
    const { map, pixels } = seamMap(25, 10);
    const joined = joinAcrossTiles(tracePieces(map, 0));
    expect(joined).toHaveLength(1);
    expect(joined[0].holes).toHaveLength(1);
    expect(joined[0].area).toBe(pixels * 4);
  });

  it('passes polygons away from tile edges through untouched', () => {
    const inner = piece(10, 10, 20, 20, 0.8, []);
    const lone = piece(0, 30, 5, 40, 0.7, ['left']); // touches an edge, but nothing lies beside it (yet)
    const joined = joinAcrossTiles([inner, lone]);
    expect(joined).toHaveLength(2);
    expect(joined[0]).toBe(inner);
    expect(joined[1]).toBe(lone);
  });

  it('weights the mean probability by area and joins chains across three tiles', () => {
    const joined = joinAcrossTiles([
      piece(0, 0, 2, 5, 0.6, ['right']),
      piece(2, 0, 8, 5, 1.0, ['left', 'right']),
      piece(8, 0, 9, 5, 0.5, ['left']),
    ]);
    expect(joined).toHaveLength(1);
    expect(joined[0].area).toBe(45);
    expect(joined[0].meanProbability).toBeCloseTo((10 * 0.6 + 30 * 1.0 + 5 * 0.5) / 45, 12);
    expect(joined[0].touches).toEqual([]);
  });

  it('keeps pieces that only meet at a corner apart, unchanged', () => {
    const a = piece(0, 0, 10, 10, 0.9, ['right', 'bottom']);
    const b = piece(10, 10, 20, 20, 0.8, ['left', 'top']);
    const joined = joinAcrossTiles([a, b]);
    expect(joined).toHaveLength(2);
    expect(joined).toContain(a);
    expect(joined).toContain(b);
  });
});

describe('joinAcrossTiles pinholes', () => {
  // Two pieces meeting at x = 10 with a notch in each edge: their union is a square with a 2 x 2 hole on the seam.
  const left: GlomerulusPolygon = {
    exterior: [
      [0, 0],
      [10, 0],
      [10, 4],
      [9, 4],
      [9, 6],
      [10, 6],
      [10, 10],
      [0, 10],
    ],
    holes: [],
    area: 98,
    meanProbability: 0.9,
    touches: ['right'],
  };
  const right: GlomerulusPolygon = {
    exterior: [
      [10, 0],
      [20, 0],
      [20, 10],
      [10, 10],
      [10, 6],
      [11, 6],
      [11, 4],
      [10, 4],
    ],
    holes: [],
    area: 98,
    meanProbability: 0.9,
    touches: ['left'],
  };

  it('fills holes on the seam smaller than minHoleArea, keeps them otherwise', () => {
    const [kept] = joinAcrossTiles([left, right]);
    expect(kept.holes).toHaveLength(1);
    const [filled] = joinAcrossTiles([left, right], { minHoleArea: 5 });
    expect(filled.holes).toEqual([]);
    expect(filled.area).toBeCloseTo(200, 6);
  });
});
