import { describe, expect, it } from 'vitest';
import { isTissue, tissueAreaIn, tissueIn, tissueMask, tissueShareIn } from '@glomseg/shared/tissue-mask.js';

describe('tissue-mask', () => {
  it.each([
    ['white glass', [255, 255, 255], false],
    ['slightly grey glass', [240, 238, 242], false],
    ['tinted bright glass', [250, 236, 246], false],
    ['pale PAS stroma', [236, 214, 228], true],
    ['PAS magenta', [190, 90, 170], true],
    ['a haematoxylin nucleus', [60, 40, 90], true],
    ['dense grey tissue', [150, 150, 150], true],
    ['black ink', [10, 10, 12], false],
  ] as const)('%s %j: tissue %s', (_, [r, g, b], expected) => {
    expect(isTissue(r, g, b)).toBe(expected);
  });

  it('marks each pixel and gives the tissue fraction', () => {
    const data = new Uint8Array([255, 255, 255, 190, 90, 170, 10, 10, 12, 60, 40, 90]);
    const { mask, fraction } = tissueMask({ width: 2, height: 2, data });
    expect([...mask]).toEqual([0, 1, 0, 1]);
    expect(fraction).toBe(0.5);
  });
});

describe('tissueIn', () => {
  // A 4 x 3 map over a 400 x 300 slide (100 level-0 pixels a map pixel), tissue only at map pixel (3, 2).
  const map = {
    width: 4,
    height: 3,
    mask: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    scaleX: 100,
    scaleY: 100,
  };

  it('finds tissue in a rectangle that covers it, or lies within one map pixel of it', () => {
    expect(tissueIn(map, { x: 300, y: 200, width: 50, height: 50 })).toBe(true);
    expect(tissueIn(map, { x: 200, y: 100, width: 90, height: 90 })).toBe(true); // map pixel (2, 1): a diagonal neighbour
  });

  it('finds none two map pixels away, and assumes tissue without a map', () => {
    expect(tissueIn(map, { x: 0, y: 0, width: 90, height: 90 })).toBe(false);
    expect(tissueIn(undefined, { x: 0, y: 0, width: 1, height: 1 })).toBe(true);
  });
});

describe('tissueShareIn', () => {
  // A 4 x 2 map over a 400 x 200 slide: the right half is tissue.
  const map = { width: 4, height: 2, mask: Uint8Array.from([0, 0, 1, 1, 0, 0, 1, 1]), scaleX: 100, scaleY: 100 };

  it('is the share of the covered map pixels that show tissue, without slack', () => {
    expect(tissueShareIn(map, { x: 200, y: 0, width: 200, height: 200 })).toBe(1);
    expect(tissueShareIn(map, { x: 100, y: 0, width: 200, height: 100 })).toBe(0.5);
    expect(tissueShareIn(map, { x: 0, y: 0, width: 150, height: 200 })).toBe(0);
    expect(tissueShareIn(map, { x: 500, y: 0, width: 100, height: 100 })).toBe(0);
  });
});

describe('tissueAreaIn', () => {
  // A 4 x 2 map over a 1000 x 500 slide (250 level-0 pixels a map pixel): tissue at (1, 0), (2, 0) and (3, 1).
  const map = { width: 4, height: 2, mask: Uint8Array.from([0, 1, 1, 0, 0, 0, 0, 1]), scaleX: 250, scaleY: 250 };

  it('counts the part of each tissue map pixel a rectangle covers, in level-0 square pixels', () => {
    expect(tissueAreaIn(map, { x: 0, y: 0, width: 1000, height: 500 })).toBe(3 * 250 * 250);
    expect(tissueAreaIn(map, { x: 100, y: 100, width: 300, height: 100 })).toBe(150 * 100); // part of (1, 0)
    expect(tissueAreaIn(map, { x: 0, y: 250, width: 750, height: 250 })).toBe(0);
    expect(tissueAreaIn(map, { x: 2000, y: 0, width: 100, height: 100 })).toBe(0);
  });

  it('gives the whole slide, summed over any tiling that cuts map pixels (the viewer sums tiles, a score a region)', () => {
    const whole = tissueAreaIn(map, { x: 0, y: 0, width: 1000, height: 500 });
    for (const edge of [96, 333.25, 768]) {
      let sum = 0;
      for (let y = 0; y < 500; y += edge)
        for (let x = 0; x < 1000; x += edge)
          sum += tissueAreaIn(map, { x, y, width: Math.min(edge, 1000 - x), height: Math.min(edge, 500 - y) });
      expect(sum).toBeCloseTo(whole, 6);
    }
  });
});
