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
  if (!(seedThreshold > threshold)) {
    for (let k = 0; k < n; k++) mask[k] = data[k] >= threshold ? 1 : 0;
    return mask;
  }
  // One pass for the mask, the confident pixels and the box around them. Each step below runs only when the one
  // before leaves something to part, since this runs for every tile and most have nothing to part.
  let confident = 0;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0, k = 0; y < height; y++) {
    for (let x = 0; x < width; x++, k++) {
      const p = data[k];
      if (p < threshold) continue;
      mask[k] = 1;
      if (p < seedThreshold) continue;
      confident++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (options.requireCore) keepConfidentBlobs(mask, data, width, { x0, y0, x1, y1 }, seedThreshold, confident);
  // Too few confident pixels for two cores (most tiles).
  if (confident < 2 * minSeedPixels) return mask;
  const cores = labelCores(data, width, { x0, y0, x1, y1 }, seedThreshold, minSeedPixels);
  if (cores.count < 2) return mask;
  // Only a blob that holds two cores or more can be parted; the others keep every pixel.
  const parted = coresSharingBlobs(mask, width, cores);
  if (parted.length === 0) return mask;
  floodFromCores(data, mask, width, threshold, cores.labels, parted);
  return mask;
}

/** Clears the mask's blobs that hold none of the `confident` pixels (all inside `box`) at or above `seedThreshold`. */
function keepConfidentBlobs(mask: Uint8Array, data: Float32Array, width: number, box: { x0: number; y0: number; x1: number; y1: number }, seedThreshold: number, confident: number): void {
  if (confident === 0) {
    mask.fill(0);
    return;
  }
  const reached = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  let top = 0;
  for (let y = box.y0; y <= box.y1; y++) {
    for (let k = y * width + box.x0, end = y * width + box.x1; k <= end; k++) {
      if (data[k] >= seedThreshold) {
        reached[k] = 1;
        stack[top++] = k;
      }
    }
  }
  growMarks(mask, width, reached, 1, stack, top);
  mask.set(reached);
}

/**
 * Gives `mark` to every mask pixel 4-connected to the `top` pixels on `stack` (already marked themselves), through
 * mask pixels not marked yet. `stack` has room for every pixel of the mask.
 */
function growMarks(mask: Uint8Array, width: number, marks: Int32Array, mark: number, stack: Int32Array, top: number): void {
  const n = mask.length;
  while (top > 0) {
    const k = stack[--top];
    const x = k % width;
    if (x > 0 && mask[k - 1] && !marks[k - 1]) { marks[k - 1] = mark; stack[top++] = k - 1; }
    if (x < width - 1 && mask[k + 1] && !marks[k + 1]) { marks[k + 1] = mark; stack[top++] = k + 1; }
    if (k >= width && mask[k - width] && !marks[k - width]) { marks[k - width] = mark; stack[top++] = k - width; }
    if (k + width < n && mask[k + width] && !marks[k + width]) { marks[k + width] = mark; stack[top++] = k + width; }
  }
}

interface Cores {
  /** Core label per map pixel (distinct, positive), 0 elsewhere. */
  labels: Int32Array;
  count: number;
  /** One pixel of each core, by label (index 0 unused). */
  pixelOf: number[];
}

/** The cores big enough to count, labelled inside the box around the confident pixels and laid on the whole map. */
function labelCores(data: Float32Array, width: number, box: { x0: number; y0: number; x1: number; y1: number }, seedThreshold: number, minSeedPixels: number): Cores {
  const boxWidth = box.x1 - box.x0 + 1;
  const boxHeight = box.y1 - box.y0 + 1;
  const confident = new Uint8Array(boxWidth * boxHeight);
  for (let y = 0; y < boxHeight; y++) {
    const row = (box.y0 + y) * width + box.x0;
    for (let x = 0; x < boxWidth; x++) confident[y * boxWidth + x] = data[row + x] >= seedThreshold ? 1 : 0;
  }
  const inBox = labelComponents(confident, boxWidth, boxHeight);
  // Smaller than a glomerulus: not a core (its pixels are flooded like any other).
  const renumber = new Int32Array(inBox.count + 1);
  const pixelOf = [-1];
  for (let c = 1; c <= inBox.count; c++) if (inBox.pixels[c] >= minSeedPixels) renumber[c] = pixelOf.push(-1) - 1;
  const labels = new Int32Array(data.length);
  for (let y = 0; y < boxHeight; y++) {
    for (let x = 0; x < boxWidth; x++) {
      const label = renumber[inBox.labels[y * boxWidth + x]];
      if (label === 0) continue;
      const k = (box.y0 + y) * width + box.x0 + x;
      labels[k] = label;
      if (pixelOf[label] < 0) pixelOf[label] = k;
    }
  }
  return { labels, count: pixelOf.length - 1, pixelOf };
}

/** The labels of the cores that share their blob (4-connected mask pixels) with another core. */
function coresSharingBlobs(mask: Uint8Array, width: number, cores: Cores): number[] {
  const blobOf = new Int32Array(mask.length);
  const blobOfCore = new Int32Array(cores.count + 1);
  const stack = new Int32Array(mask.length);
  let blobs = 0;
  for (let core = 1; core <= cores.count; core++) {
    const start = cores.pixelOf[core];
    if (blobOf[start]) {
      blobOfCore[core] = blobOf[start];
      continue;
    }
    const blob = ++blobs;
    blobOfCore[core] = blob;
    blobOf[start] = blob;
    stack[0] = start;
    growMarks(mask, width, blobOf, blob, stack, 1);
  }
  const coresInBlob = new Int32Array(blobs + 1);
  for (let core = 1; core <= cores.count; core++) coresInBlob[blobOfCore[core]]++;
  const sharing: number[] = [];
  for (let core = 1; core <= cores.count; core++) if (coresInBlob[blobOfCore[core]] >= 2) sharing.push(core);
  return sharing;
}

/**
 * The watershed: the given cores flood their blobs' pixels in order of falling probability, and where two floods
 * meet the later pixel becomes the parting line (cleared in `mask`) and floods no further.
 */
function floodFromCores(data: Float32Array, mask: Uint8Array, width: number, threshold: number, labels: Int32Array, flooding: number[]): void {
  const n = mask.length;
  const floods = new Uint8Array(Math.max(...flooding) + 1);
  for (const core of flooding) floods[core] = 1;
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
  for (let k = 0; k < n; k++) if (labels[k] > 0 && floods[labels[k]]) push(k);
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
