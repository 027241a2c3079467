import { describe, expect, it } from 'vitest';
import { cropProbability } from '@glomseg/shared/preprocess.js';
import type { ProbabilityMap, TraceOptions } from '@glomseg/shared/segmenter.js';
import { separateTouching } from '@glomseg/shared/separate-touching.js';
import { traceTile } from '@glomseg/shared/trace-tile.js';

const identity = { originX: 0, originY: 0, scale: 1 };

/** Polygons of the whole map (kept centre = all of it). */
function traceKept(map: ProbabilityMap, options: Omit<TraceOptions, 'keepX' | 'keepY' | 'keepWidth' | 'keepHeight'>) {
  return traceTile(map, { keepX: 0, keepY: 0, keepWidth: map.width, keepHeight: map.height, ...options });
}

/**
 * Two round glomeruli side by side whose probability falls towards their rims but stays above 0.8 where they
 * touch: one blob at 0.8, two cores at 0.95. `second` scales the right one's radius.
 */
function touchingPair(second = 1): ProbabilityMap {
  const width = 60;
  const height = 30;
  const data = new Float32Array(width * height);
  const discs = [
    { cx: 16, cy: 15, r: 11 },
    { cx: 40, cy: 15, r: 11 * second },
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let p = 0.05;
      for (const { cx, cy, r } of discs) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / r;
        if (d < 1.15) p = Math.max(p, 0.99 - 0.17 * d);
      }
      data[y * width + x] = p;
    }
  }
  return { width, height, data };
}

/** The touching pair at the left of a wider map of background, for other blobs to be painted beside it. */
function pairWidened(width: number): ProbabilityMap {
  const pair = touchingPair();
  const data = new Float32Array(width * pair.height).fill(0.05);
  for (let y = 0; y < pair.height; y++) data.set(pair.data.subarray(y * pair.width, (y + 1) * pair.width), y * width);
  return { width, height: pair.height, data };
}

function count(mask: Uint8Array): number {
  return mask.reduce((n, v) => n + v, 0);
}

describe('separateTouching', () => {
  it('parts a blob with two cores along a one-pixel line, keeping every other pixel', () => {
    const map = touchingPair();
    const plain = traceKept(map, { threshold: 0.8, minArea: 20, transform: identity });
    expect(plain).toHaveLength(1); // the case is real: one blob without parting
    const mask = separateTouching(map, { threshold: 0.8, seedThreshold: 0.95, minSeedPixels: 20 });
    const whole = map.data.reduce((n, p) => n + (p >= 0.8 ? 1 : 0), 0);
    const lost = whole - count(mask);
    expect(lost).toBeGreaterThan(0);
    expect(lost).toBeLessThanOrEqual(2 * map.height); // a line across the neck, not an erosion
    for (let k = 0; k < mask.length; k++) if (mask[k]) expect(map.data[k]).toBeGreaterThanOrEqual(0.8);

    const parted = traceKept(map, { threshold: 0.8, minArea: 20, seedThreshold: 0.95, transform: identity });
    expect(parted).toHaveLength(2);
    const [left, right] = [...parted].sort((a, b) => a.exterior[0][0] - b.exterior[0][0]);
    // Each side keeps its own glomerulus, the line near the middle of the neck.
    expect(Math.max(...left.exterior.map(([x]) => x))).toBeGreaterThanOrEqual(27);
    expect(Math.max(...left.exterior.map(([x]) => x))).toBeLessThanOrEqual(30);
    expect(Math.abs(left.area - right.area)).toBeLessThan(0.05 * left.area);
  });

  it('parts on the whole map, margin included: a neighbour whose core lies outside the kept centre is still parted off', () => {
    const map = touchingPair();
    // The kept centre ends at x = 32, past the neck (x = 28) but before the right glomerulus's core.
    const keep = { keepX: 0, keepY: 0, keepWidth: 32, keepHeight: 30 };
    const seen = traceTile(map, { ...keep, threshold: 0.8, minArea: 20, seedThreshold: 0.95, transform: identity });
    const left = seen.filter((p) => Math.min(...p.exterior.map(([x]) => x)) < 10);
    expect(left).toHaveLength(1);
    expect(Math.max(...left[0].exterior.map(([x]) => x))).toBeLessThanOrEqual(30);
    // What the kept centre alone would give: one core there, so no parting, and the neighbour's sliver stays on.
    const alone = traceKept(cropProbability(map, 0, 0, 32, 30), {
      threshold: 0.8,
      minArea: 20,
      seedThreshold: 0.95,
      transform: identity,
    });
    expect(alone).toHaveLength(1);
    expect(Math.max(...alone[0].exterior.map(([x]) => x))).toBe(32);
  });

  it('keeps a blob with one core, or with a second core smaller than a glomerulus, whole', () => {
    const single = touchingPair(0); // the right disc has no pixels
    const mask = separateTouching(single, { threshold: 0.8, seedThreshold: 0.95, minSeedPixels: 20 });
    expect([...mask]).toEqual([...single.data].map((p) => (p >= 0.8 ? 1 : 0)));

    const bump = touchingPair(0.45); // its core is a few pixels: a bump of one glomerulus
    const bumpCore = bump.data.reduce((n, p, k) => n + (p >= 0.95 && k % bump.width > 30 ? 1 : 0), 0);
    expect(bumpCore).toBeGreaterThan(0);
    expect(bumpCore).toBeLessThan(20);
    const kept = separateTouching(bump, { threshold: 0.8, seedThreshold: 0.95, minSeedPixels: 20 });
    expect([...kept]).toEqual([...bump.data].map((p) => (p >= 0.8 ? 1 : 0)));
  });

  it('parts only the blob that holds two cores: single glomeruli elsewhere, each with its own core, keep every pixel', () => {
    // The touching pair on the left; on the right two lone glomeruli, apart, each one blob with one core.
    const { data, height } = pairWidened(120);
    const width = 120;
    for (const cx of [76, 104]) {
      for (let y = 0; y < height; y++) {
        for (let x = 60; x < width; x++) {
          const d = Math.hypot(x + 0.5 - cx, y + 0.5 - 15) / 11;
          if (d < 1.15) data[y * width + x] = Math.max(data[y * width + x], 0.99 - 0.17 * d);
        }
      }
    }
    const map: ProbabilityMap = { width, height, data };
    const mask = separateTouching(map, { threshold: 0.8, seedThreshold: 0.95, minSeedPixels: 20 });
    const plain = [...data].map((p) => (p >= 0.8 ? 1 : 0));
    let lostLeft = 0;
    for (let k = 0; k < mask.length; k++) {
      if (k % width >= 60) expect(mask[k], `pixel ${k}`).toBe(plain[k]);
      else lostLeft += plain[k] - mask[k];
    }
    expect(lostLeft).toBeGreaterThan(0);
    expect(traceKept(map, { threshold: 0.8, minArea: 20, seedThreshold: 0.95, transform: identity })).toHaveLength(4);
  });

  it('with requireCore drops the blobs that never reach the seed threshold, and keeps every pixel of the others', () => {
    // The touching pair, a faint blob that stays under the seed threshold, and a blob with one confident pixel.
    const { data, height } = pairWidened(100);
    const width = 100;
    for (let y = 5; y < 25; y++) for (let x = 64; x < 78; x++) data[y * width + x] = 0.9;
    for (let y = 5; y < 25; y++) for (let x = 84; x < 98; x++) data[y * width + x] = 0.85;
    data[15 * width + 90] = 0.96;
    const map: ProbabilityMap = { width, height, data };
    const options = { threshold: 0.8, seedThreshold: 0.95, minSeedPixels: 20 };
    const kept = separateTouching(map, { ...options, requireCore: true });
    const plain = separateTouching(map, options);
    for (let k = 0; k < kept.length; k++) {
      const x = k % width;
      if (x >= 64 && x < 78) expect(kept[k], `faint blob pixel ${k}`).toBe(0);
      else expect(kept[k], `pixel ${k}`).toBe(plain[k]); // the pair parted as before, the small-cored blob whole
    }
    expect(count(plain) - count(kept)).toBe(20 * 14);
    expect(
      traceKept(map, { threshold: 0.8, minArea: 20, seedThreshold: 0.95, requireCore: true, transform: identity }),
    ).toHaveLength(3);
    expect(traceKept(map, { threshold: 0.8, minArea: 20, seedThreshold: 0.95, transform: identity })).toHaveLength(4);
    // Nothing confident at all: nothing is kept.
    const faint: ProbabilityMap = { width: 8, height: 3, data: new Float32Array(24).fill(0.85) };
    expect(count(separateTouching(faint, { ...options, minSeedPixels: 1, requireCore: true }))).toBe(0);
  });

  it('keeps blobs without any core, and does nothing when the seed threshold is not above the threshold', () => {
    const faint: ProbabilityMap = { width: 8, height: 3, data: new Float32Array(24).fill(0.85) };
    expect(count(separateTouching(faint, { threshold: 0.8, seedThreshold: 0.95, minSeedPixels: 1 }))).toBe(24);
    const map = touchingPair();
    const plain = [...map.data].map((p) => (p >= 0.8 ? 1 : 0));
    expect([...separateTouching(map, { threshold: 0.8, seedThreshold: 0.8, minSeedPixels: 20 })]).toEqual(plain);
    expect(traceKept(map, { threshold: 0.96, minArea: 5, seedThreshold: 0.95, transform: identity })).toHaveLength(2); // the cores alone
  });
});
