import { describe, expect, it } from 'vitest';
import { cutFor, logitCutoff, probabilityOfLogit } from '@glomseg/shared/map-values.js';
import { applySigmoid } from '@glomseg/shared/preprocess.js';
import type { ProbabilityMap, TraceOptions } from '@glomseg/shared/segmenter.js';
import { traceTile } from '@glomseg/shared/trace-tile.js';

const f32 = new Float32Array(1);
const f32Bits = new Int32Array(f32.buffer);
/** The float32 `steps` representable values above x (below for negative steps), across zero too. */
function float32Step(x: number, steps: number): number {
  f32[0] = x;
  const bits = f32Bits[0];
  const ordered = (bits >= 0 ? bits : -(bits & 0x7fffffff)) + steps;
  f32Bits[0] = ordered >= 0 ? ordered : -ordered | 0x80000000;
  return f32[0];
}

const CUTS = [1e-6, 0.1, 0.5, 0.8, 0.95, 0.975, 0.999, 0.9999999, 1];

describe('logit cut-offs', () => {
  it('are the smallest float32 logit whose stored probability reaches p', () => {
    for (const p of CUTS) {
      const cut = logitCutoff(p);
      expect(Math.fround(cut)).toBe(cut);
      expect(probabilityOfLogit(cut)).toBeGreaterThanOrEqual(p);
      const below = float32Step(cut, -1);
      expect(below).toBeLessThan(cut);
      expect(probabilityOfLogit(below)).toBeLessThan(p);
    }
    // Just below 0: float32 stores sigmoid of a tiny negative logit as 0.5.
    expect(logitCutoff(0.5)).toBeLessThan(0);
    expect(logitCutoff(0.5)).toBeGreaterThan(-1e-6);
    expect(logitCutoff(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(logitCutoff(1.5)).toBeNaN();
    expect(logitCutoff(Number.NaN)).toBeNaN();
  });

  it('hold because the stored probability never falls as the float32 logit rises (around each cut, and across the range)', () => {
    const check = (from: number, count: number, stride: number): void => {
      let previous = probabilityOfLogit(from);
      let x = from;
      for (let i = 0; i < count; i++) {
        const next = float32Step(x, stride);
        if (!(next > x)) throw new Error(`stepping from ${x} did not rise`);
        const p = probabilityOfLogit(next);
        if (p < previous) throw new Error(`probability falls from ${previous} at ${x} to ${p} at ${next}`);
        previous = p;
        x = next;
      }
    };
    // Every float32 within 20000 steps of each cut, where a fall would change which pixels pass.
    for (const p of CUTS.slice(1, -1)) {
      const cut = logitCutoff(p);
      check(float32Step(cut, -20000), 40000, 1);
    }
    // And a coarse walk from -30 to 30.
    check(-30, 2_000_000, 1000);
  });

  it('leave a probability map as it is', () => {
    expect(cutFor({}, 0.8)).toBe(0.8);
    expect(cutFor({ logits: false }, 0.25)).toBe(0.25);
    expect(cutFor({ logits: true }, 0.8)).toBe(logitCutoff(0.8));
    expect(probabilityOfLogit(0)).toBe(0.5);
  });
});

/** A seeded map of logits: round blobs of several heights and sizes, some touching, on a noisy background. */
function randomLogits(seed: number, width: number, height: number): ProbabilityMap {
  let state = seed;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const blobs = Array.from({ length: 3 + Math.floor(random() * 6) }, () => ({
    cx: random() * width,
    cy: random() * height,
    r: 6 + random() * 18,
    peak: 1 + random() * 7,
  }));
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = -4 + random() * 2;
      for (const { cx, cy, r, peak } of blobs)
        v = Math.max(v, peak * (1 - Math.hypot(x - cx, y - cy) / r) + random() * 0.3);
      data[y * width + x] = v;
    }
  }
  // Some pixels exactly at and just below the cuts, where a comparison in the wrong units would show.
  for (const p of [0.8, 0.975]) {
    const cut = logitCutoff(p);
    for (let i = 0; i < 40; i++) data[Math.floor(random() * data.length)] = i % 2 ? cut : float32Step(cut, -1);
  }
  return { width, height, data, logits: true };
}

describe('cutting a tile on its logits', () => {
  it('gives the polygons, areas and mean probabilities that its stored probabilities give', () => {
    const cuts: Omit<TraceOptions, 'keepX' | 'keepY' | 'keepWidth' | 'keepHeight' | 'transform'>[] = [
      { threshold: 0.8, minArea: 100, seedThreshold: 0.975, requireCore: true },
      { threshold: 0.8, minArea: 100, seedThreshold: 0.975 },
      { threshold: 0.5, minArea: 20 },
    ];
    let polygons = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const logits = randomLogits(seed, 96, 80);
      const probabilities: ProbabilityMap = {
        width: logits.width,
        height: logits.height,
        data: applySigmoid(logits.data.slice()),
      };
      for (const cut of cuts) {
        const options: TraceOptions = {
          keepX: 8,
          keepY: 8,
          keepWidth: 80,
          keepHeight: 64,
          transform: { originX: 100, originY: 40, scale: 2 },
          ...cut,
        };
        const expected = traceTile(probabilities, options);
        expect(traceTile(logits, options)).toEqual(expected);
        polygons += expected.length;
      }
    }
    expect(polygons).toBeGreaterThan(200);
  });
});
