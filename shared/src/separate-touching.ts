/**
 * Touching glomeruli come out of a probability threshold as one blob when the gap between them stays above it,
 * yet each still has a confident core of its own. This splits such a blob between its cores (a marker-based
 * watershed on the probability): every core floods the blob's pixels in order of falling probability, and where
 * two floods meet a one-pixel line is left empty, so that tracing sees two components. A blob with one core or
 * none keeps every pixel it had.
 */
import { labelComponents } from './mask-to-polygons.js';
import type { ProbabilityMap } from './segmenter.js';

export interface SeparationOptions {
  /** The mask: pixels at or above it. */
  threshold: number;
  /** A core: 4-connected pixels at or above it... */
  seedThreshold: number;
  /** ...of at least this many map pixels (smaller cores are bumps of one glomerulus, not glomeruli). */
  minSeedPixels: number;
}

/** Probabilities are flooded in this many levels from the threshold up to 1 (finer changes nothing visible). */
const LEVELS = 256;

/** The binary mask (1 = glomerulus) of `map` at `threshold`, with touching glomeruli parted between their cores. */
export function separateTouching(map: ProbabilityMap, options: SeparationOptions): Uint8Array {
  const { width, height, data } = map;
  const { threshold, seedThreshold, minSeedPixels } = options;
  const n = width * height;
  const mask = new Uint8Array(n);
  for (let k = 0; k < n; k++) mask[k] = data[k] >= threshold ? 1 : 0;
  if (!(seedThreshold > threshold)) return mask;

  // Too few confident pixels for two cores (most tiles): nothing to part, and nothing more to allocate.
  let confident = 0;
  for (let k = 0; k < n; k++) if (data[k] >= seedThreshold) confident++;
  if (confident < 2 * minSeedPixels) return mask;
  const { labels, count } = labelCores(data, width, height, seedThreshold, minSeedPixels);
  if (count < 2) return mask;

  // A bucket queue over probability levels, highest first: each level a linked stack (head per level, next per
  // pixel); every pixel enters at most once, when it is labelled.
  const level = (p: number): number => Math.min(LEVELS - 1, Math.max(0, Math.floor(((p - threshold) / (1 - threshold)) * LEVELS)));
  const head = new Int32Array(LEVELS).fill(-1);
  const next = new Int32Array(n);
  let top = -1;
  const push = (k: number): void => {
    const l = level(data[k]);
    next[k] = head[l];
    head[l] = k;
    if (l > top) top = l;
  };
  for (let k = 0; k < n; k++) if (labels[k] > 0) push(k);
  const neighbours = new Int32Array(4);
  while (top >= 0) {
    const k = head[top];
    if (k < 0) {
      top--;
      continue;
    }
    head[top] = next[k];
    const label = labels[k];
    const x = k % width;
    neighbours[0] = x > 0 ? k - 1 : -1;
    neighbours[1] = x < width - 1 ? k + 1 : -1;
    neighbours[2] = k >= width ? k - width : -1;
    neighbours[3] = k + width < n ? k + width : -1;
    // Where two floods meet, the later pixel becomes the parting line and floods no further.
    let meets = false;
    for (let i = 0; i < 4; i++) {
      const j = neighbours[i];
      if (j >= 0 && labels[j] > 0 && labels[j] !== label) meets = true;
    }
    if (meets) {
      mask[k] = 0;
      labels[k] = -1;
      continue;
    }
    for (let i = 0; i < 4; i++) {
      const j = neighbours[i];
      if (j >= 0 && mask[j] && labels[j] === 0) {
        labels[j] = label;
        push(j);
      }
    }
  }
  return mask;
}

/** Labels of the cores big enough to count (distinct, positive), 0 elsewhere, and how many there are. */
function labelCores(data: Float32Array, width: number, height: number, seedThreshold: number, minSeedPixels: number): { labels: Int32Array; count: number } {
  const confident = new Uint8Array(width * height);
  for (let k = 0; k < confident.length; k++) confident[k] = data[k] >= seedThreshold ? 1 : 0;
  const { labels, count, pixels } = labelComponents(confident, width, height);
  // Too small to be a glomerulus of its own: not a core (its pixels are flooded like any other).
  let cores = 0;
  for (let c = 1; c <= count; c++) if (pixels[c] >= minSeedPixels) cores++;
  if (cores < count) for (let k = 0; k < labels.length; k++) if (labels[k] > 0 && pixels[labels[k]] < minSeedPixels) labels[k] = 0;
  return { labels, count: cores };
}
