/**
 * The confident cores of a tile's mask for separate-touching.ts: the blobs that reach a confident pixel, the cores
 * big enough to be glomeruli (labelled), and which cores share a blob with another and so must be parted. Every flood
 * here is 4-connected and runs on scratch arrays the caller allocates once per tile.
 */

/** The box around the confident pixels, inclusive. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Clears the mask's blobs that hold none of the confident pixels (all inside `box`) at or above `seedCut`. */
export function keepConfidentBlobs(
  mask: Uint8Array,
  data: Float32Array,
  width: number,
  box: Box,
  seedCut: number,
  reached: Int32Array,
  stack: Int32Array,
): void {
  let top = 0;
  for (let y = box.y0; y <= box.y1; y++) {
    for (let k = y * width + box.x0, end = y * width + box.x1; k <= end; k++) {
      if (data[k] >= seedCut) {
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
function growMarks(
  mask: Uint8Array,
  width: number,
  marks: Int32Array,
  mark: number,
  stack: Int32Array,
  top: number,
): void {
  const n = mask.length;
  while (top > 0) {
    const k = stack[--top];
    const x = k % width;
    if (x > 0 && mask[k - 1] && !marks[k - 1]) {
      marks[k - 1] = mark;
      stack[top++] = k - 1;
    }
    if (x < width - 1 && mask[k + 1] && !marks[k + 1]) {
      marks[k + 1] = mark;
      stack[top++] = k + 1;
    }
    if (k >= width && mask[k - width] && !marks[k - width]) {
      marks[k - width] = mark;
      stack[top++] = k - width;
    }
    if (k + width < n && mask[k + width] && !marks[k + width]) {
      marks[k + width] = mark;
      stack[top++] = k + width;
    }
  }
}

export interface Cores {
  /** Core label per map pixel (distinct, positive), 0 elsewhere. */
  labels: Int32Array;
  count: number;
  /** One pixel of each core, by label (index 0 unused). */
  pixelOf: number[];
}

/**
 * The cores big enough to count, labelled into `labels` (zeros) in raster order of their first pixel: each
 * confident pixel not yet labelled floods its component (4-connected, all inside `box`) under a provisional
 * label; when some were too small to count, one pass over the box renumbers the rest and clears those.
 */
export function labelCores(
  data: Float32Array,
  width: number,
  box: Box,
  seedCut: number,
  minSeedPixels: number,
  labels: Int32Array,
  stack: Int32Array,
): Cores {
  const n = labels.length;
  const pixelOf = [-1];
  // Final label by provisional label (index 0 unused); 0 for a component smaller than a glomerulus, which is not
  // a core (its pixels are flooded like any other).
  const final = [0];
  for (let y = box.y0; y <= box.y1; y++) {
    for (let start = y * width + box.x0, end = y * width + box.x1; start <= end; start++) {
      if (labels[start] !== 0 || !(data[start] >= seedCut)) continue;
      const label = final.length;
      labels[start] = label;
      stack[0] = start;
      let top = 1;
      let size = 0;
      while (top > 0) {
        const k = stack[--top];
        size++;
        const x = k % width;
        if (x > 0 && labels[k - 1] === 0 && data[k - 1] >= seedCut) {
          labels[k - 1] = label;
          stack[top++] = k - 1;
        }
        if (x < width - 1 && labels[k + 1] === 0 && data[k + 1] >= seedCut) {
          labels[k + 1] = label;
          stack[top++] = k + 1;
        }
        if (k >= width && labels[k - width] === 0 && data[k - width] >= seedCut) {
          labels[k - width] = label;
          stack[top++] = k - width;
        }
        if (k + width < n && labels[k + width] === 0 && data[k + width] >= seedCut) {
          labels[k + width] = label;
          stack[top++] = k + width;
        }
      }
      final.push(size >= minSeedPixels ? pixelOf.push(start) - 1 : 0);
    }
  }
  // With no small component every provisional label is already final.
  if (pixelOf.length < final.length) {
    for (let y = box.y0; y <= box.y1; y++) {
      for (let k = y * width + box.x0, end = y * width + box.x1; k <= end; k++)
        if (labels[k] > 0) labels[k] = final[labels[k]];
    }
  }
  return { labels, count: pixelOf.length - 1, pixelOf };
}

/** The labels of the cores that share their blob (4-connected mask pixels) with another core; `blobOf` zeros. */
export function coresSharingBlobs(
  mask: Uint8Array,
  width: number,
  cores: Cores,
  blobOf: Int32Array,
  stack: Int32Array,
): number[] {
  const blobOfCore = new Int32Array(cores.count + 1);
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
