/**
 * Probability map -> glomerulus polygons. Pixels at or above the threshold are grouped into 4-connected
 * components (diagonal neighbours are separate glomeruli: a one-pixel diagonal bridge is noise, and the outline of
 * a 4-connected component never pinches through a single vertex). Each component is traced along pixel edges,
 * so vertices sit on integer pixel corners and two pieces meeting at a tile border share the exact border
 * coordinates. Outlines are then simplified, but vertices on the map's boundary never move, so pieces cut by
 * a tile border still join exactly.
 */
import type { GlomerulusPolygon, Ring, TileEdge } from './geometry.js';
import type { MapTransform, ProbabilityMap } from './segmenter.js';
import { GlomsegError } from './errors.js';
import { cutFor, probabilityOfLogit } from './map-values.js';
import { polygonArea, ringSignedArea } from './rasterize.js';
import { simplifyRing, traceOutlines } from './pixel-outlines.js';

export interface MaskToPolygonsOptions {
  /**
   * Components smaller than this many level-0 square pixels (pixel count x scale^2) are dropped, holes smaller are
   * filled. Default 0. A component that reaches the map's edge is kept whatever its size: it may be the sliver of a
   * glomerulus across a tile border, to be judged once joined (the service drops small joined polygons).
   */
  minArea?: number;
  /** Douglas-Peucker tolerance in map pixels; 0 keeps the exact pixel outline. Default 0.75. */
  simplifyTolerance?: number;
}

export const DEFAULT_SIMPLIFY_TOLERANCE = 0.75;

/** Polygons of the pixels >= threshold of a probability map; `touches` names the map edges each one reaches. */
export function maskToPolygons(
  map: ProbabilityMap,
  threshold: number,
  transform: MapTransform,
  options: MaskToPolygonsOptions = {},
): GlomerulusPolygon[] {
  const { width, height, data } = map;
  if (data.length !== width * height) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `probability map of ${width} x ${height} holds ${data.length} values, expected ${width * height}`,
    );
  }
  const foreground = new Uint8Array(width * height);
  const cut = cutFor(map, threshold);
  for (let k = 0; k < foreground.length; k++) foreground[k] = data[k] >= cut ? 1 : 0;
  return binaryMaskToPolygons(foreground, width, height, transform, options, map);
}

/**
 * Polygons of the non-zero pixels of a row-major binary mask (modified in place: dropped components are cleared).
 * `values`, when given, is the map of the mask's size whose probabilities give `meanProbability` (else 1).
 */
export function binaryMaskToPolygons(
  mask: Uint8Array,
  width: number,
  height: number,
  transform: MapTransform,
  options: MaskToPolygonsOptions = {},
  values?: ProbabilityMap,
): GlomerulusPolygon[] {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 0 ||
    height < 0 ||
    mask.length !== width * height
  ) {
    throw new GlomsegError('INVALID_ARGUMENT', `mask of ${mask.length} pixels does not match ${width} x ${height}`);
  }
  if (values && (values.width !== width || values.height !== height || values.data.length !== mask.length)) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `a ${values.width} x ${values.height} map cannot give the values of a ${width} x ${height} mask`,
    );
  }
  if (!(transform.scale > 0))
    throw new GlomsegError('INVALID_ARGUMENT', `map scale must be positive, got ${transform.scale}`);
  const minArea = options.minArea ?? 0;
  const tolerance = options.simplifyTolerance ?? DEFAULT_SIMPLIFY_TOLERANCE;
  const scale2 = transform.scale * transform.scale;

  const components = labelComponents(mask, width, height, values);
  const { labels } = components;
  // Drop small components before tracing so their edges never enter the outline graph.
  const kept = new Int32Array(components.count + 1).fill(-1);
  let keptCount = 0;
  for (let c = 1; c <= components.count; c++) {
    if (components.pixels[c] * scale2 >= minArea || components.edges[c] !== 0) kept[c] = keptCount++;
  }
  if (keptCount < components.count) {
    for (let k = 0; k < mask.length; k++) if (mask[k] && kept[labels[k]] < 0) mask[k] = 0;
  }

  const exteriors: Array<Ring | undefined> = new Array(keptCount);
  const holes: Ring[][] = Array.from({ length: keptCount }, () => []);
  for (const { ring, label } of traceOutlines(mask, labels, width, height)) {
    const index = kept[label];
    const signedArea = ringSignedArea(ring);
    if (signedArea > 0) exteriors[index] = ring;
    // A hole smaller than the smallest glomerulus is a few unsure pixels inside one (a pinhole), not a gap in
    // tissue: filled, as objects that small are dropped.
    else if (-signedArea * scale2 >= minArea) holes[index].push(ring);
  }

  const polygons: GlomerulusPolygon[] = [];
  for (let c = 1; c <= components.count; c++) {
    const index = kept[c];
    const exterior = exteriors[index];
    if (index < 0 || !exterior) continue;
    const toLevel0 = (ring: Ring): Ring =>
      simplifyRing(ring, tolerance, width, height).map(([x, y]) => [
        transform.originX + x * transform.scale,
        transform.originY + y * transform.scale,
      ]);
    const polygon = { exterior: toLevel0(exterior), holes: holes[index].map(toLevel0) };
    const touches: TileEdge[] = [];
    const edges = components.edges[c];
    if (edges & TOP) touches.push('top');
    if (edges & RIGHT) touches.push('right');
    if (edges & BOTTOM) touches.push('bottom');
    if (edges & LEFT) touches.push('left');
    polygons.push({
      ...polygon,
      area: polygonArea(polygon),
      meanProbability: components.probabilitySum[c] / components.pixels[c],
      touches,
    });
  }
  return polygons;
}

const TOP = 1;
const RIGHT = 2;
const BOTTOM = 4;
const LEFT = 8;

export interface Components {
  labels: Int32Array;
  count: number;
  /** Indexed by label (1-based). */
  pixels: number[];
  probabilitySum: number[];
  edges: number[];
}

/** 4-connected component labelling by flood fill with an explicit stack; `values` as for binaryMaskToPolygons. */
export function labelComponents(mask: Uint8Array, width: number, height: number, values?: ProbabilityMap): Components {
  const data = values?.data;
  // Which values the map holds is tested per pixel rather than through a function chosen per map: that call was
  // slower than the sigmoids it makes.
  const logits = values?.logits === true;
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const pixels = [0];
  const probabilitySum = [0];
  const edges = [0];
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = ++count;
    let n = 0;
    let sum = 0;
    let touch = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const k = stack[--top];
      const x = k % width;
      const y = (k - x) / width;
      n++;
      sum += data === undefined ? 1 : logits ? probabilityOfLogit(data[k]) : data[k];
      if (y === 0) touch |= TOP;
      else if (mask[k - width] && !labels[k - width]) {
        labels[k - width] = label;
        stack[top++] = k - width;
      }
      if (y === height - 1) touch |= BOTTOM;
      else if (mask[k + width] && !labels[k + width]) {
        labels[k + width] = label;
        stack[top++] = k + width;
      }
      if (x === 0) touch |= LEFT;
      else if (mask[k - 1] && !labels[k - 1]) {
        labels[k - 1] = label;
        stack[top++] = k - 1;
      }
      if (x === width - 1) touch |= RIGHT;
      else if (mask[k + 1] && !labels[k + 1]) {
        labels[k + 1] = label;
        stack[top++] = k + 1;
      }
    }
    pixels.push(n);
    probabilitySum.push(sum);
    edges.push(touch);
  }
  return { labels, count, pixels, probabilitySum, edges };
}
