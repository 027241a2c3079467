/**
 * Touching glomeruli come out of a probability threshold as one blob when the gap between them stays above it,
 * yet each still has a confident core of its own. This splits such a blob between its cores (a marker-based
 * watershed on the probability): every core floods the blob's pixels in order of falling probability, and where
 * two floods meet a one-pixel line is left empty, so that tracing sees two components. A blob with one core or
 * none keeps every pixel it had.
 */
import { cutFor, probabilityOfLogit } from './map-values.js';
import type { ProbabilityMap } from './segmenter.js';
import { coresSharingBlobs, keepConfidentBlobs, labelCores, type Box } from './confident-cores.js';

export interface SeparationOptions {
  /** The mask: pixels at or above it. */
  threshold: number;
  /** A core: 4-connected pixels at or above it... */
  seedThreshold: number;
  /** ...of at least this many map pixels (smaller cores are bumps of one glomerulus, not glomeruli). */
  minSeedPixels: number;
  /**
   * Keep only the blobs that reach `seedThreshold` somewhere (hysteresis thresholding: the mask grown from its
   * confident pixels); a blob the model was never sure of is dropped.
   */
  requireCore?: boolean;
}

/** Probabilities are flooded in this many levels from the threshold up to 1 (finer changes nothing visible). */
const LEVELS = 256;

/**
 * The binary mask (1 = glomerulus) of `map` at `threshold`, with touching glomeruli parted between their cores, and
 * with `requireCore`, without the blobs that have no confident pixel.
 */
export function separateTouching(map: ProbabilityMap, options: SeparationOptions): Uint8Array {
  const { width, height, data } = map;
  const { threshold, seedThreshold, minSeedPixels } = options;
  const n = width * height;
  const mask = new Uint8Array(n);
  // The map's own values for both probabilities (logits, when it keeps them), compared pixel by pixel below.
  const cut = cutFor(map, threshold);
  if (!(seedThreshold > threshold)) {
    for (let k = 0; k < n; k++) mask[k] = data[k] >= cut ? 1 : 0;
    return mask;
  }
  const seedCut = cutFor(map, seedThreshold);
  // One pass for the mask, the confident pixels and the box around them. Each step below runs only when the one
  // before leaves something to part, since this runs for every tile and most have nothing to part.
  let confident = 0;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0, k = 0; y < height; y++) {
    for (let x = 0; x < width; x++, k++) {
      const v = data[k];
      if (!(v >= cut)) continue;
      mask[k] = 1;
      if (!(v >= seedCut)) continue;
      confident++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (confident === 0) {
    if (options.requireCore) mask.fill(0);
    return mask;
  }
  const box: Box = { x0, y0, x1, y1 };
  // Scratch for every flood below, allocated once: a stack, and marks that are zeroed again for the next use.
  const stack = new Int32Array(n);
  const marks = new Int32Array(n);
  if (options.requireCore) keepConfidentBlobs(mask, data, width, box, seedCut, marks, stack);
  // Too few confident pixels for two cores (most tiles).
  if (confident < 2 * minSeedPixels) return mask;
  const labels = new Int32Array(n);
  const cores = labelCores(data, width, box, seedCut, minSeedPixels, labels, stack);
  if (cores.count < 2) return mask;
  // Only a blob that holds two cores or more can be parted; the others keep every pixel.
  if (options.requireCore) marks.fill(0);
  const parted = coresSharingBlobs(mask, width, cores, marks, stack);
  if (parted.length === 0) return mask;
  floodFromCores(map, mask, threshold, box, labels, parted, stack);
  return mask;
}

/**
 * The watershed: the given cores flood their blobs' pixels in order of falling probability, and where two floods
 * meet the later pixel becomes the parting line (cleared in `mask`) and floods no further.
 */
function floodFromCores(
  map: ProbabilityMap,
  mask: Uint8Array,
  threshold: number,
  box: Box,
  labels: Int32Array,
  flooding: number[],
  next: Int32Array,
): void {
  const { width, data } = map;
  const logits = map.logits === true;
  const n = mask.length;
  const floods = new Uint8Array(Math.max(...flooding) + 1);
  for (const core of flooding) floods[core] = 1;
  // A bucket queue over probability levels, highest first: each level a linked stack (head per level, next per
  // pixel); every pixel enters at most once, when it is labelled.
  const level = (p: number): number =>
    Math.min(LEVELS - 1, Math.max(0, Math.floor(((p - threshold) / (1 - threshold)) * LEVELS)));
  const head = new Int32Array(LEVELS).fill(-1);
  let top = -1;
  const push = (k: number): void => {
    const l = level(logits ? probabilityOfLogit(data[k]) : data[k]);
    next[k] = head[l];
    head[l] = k;
    if (l > top) top = l;
  };
  // The cores lie inside the box; `next` needs no clearing (a pixel's entry is written when it is pushed).
  for (let y = box.y0; y <= box.y1; y++) {
    for (let k = y * width + box.x0, end = y * width + box.x1; k <= end; k++)
      if (labels[k] > 0 && floods[labels[k]]) push(k);
  }
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
}
