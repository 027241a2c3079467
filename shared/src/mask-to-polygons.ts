/**
 * Probability map -> glomerulus polygons. Pixels at or above the threshold are grouped into 4-connected
 * components (diagonal neighbours are separate glomeruli: a one-pixel diagonal bridge is noise, and the outline of
 * a 4-connected component never pinches through a single vertex). Each component is traced along pixel edges,
 * so vertices sit on integer pixel corners and two pieces meeting at a tile border share the exact border
 * coordinates. Outlines are then simplified, but vertices on the map's boundary never move, so pieces cut by
 * a tile border still join exactly.
 */
import simplify from 'simplify-js';
import type { GlomerulusPolygon, Ring, TileEdge } from './geometry.js';
import type { MapTransform, ProbabilityMap } from './segmenter.js';
import { GlomsegError } from './errors.js';
import { cutFor, probabilityOfLogit } from './map-values.js';
import { polygonArea, ringSignedArea } from './rasterize.js';

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

// Outline directions, clockwise on screen: right, down, left, up.
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/**
 * Traces every pixel-edge outline of the mask. Each foreground pixel contributes its sides that face background,
 * directed clockwise around the pixel (foreground on the right when walking on screen). At a saddle vertex (two
 * diagonal foreground pixels) the walk turns right, wrapping around the same pixel: that keeps 4-connected
 * components apart. Exterior rings come out with positive signed area, holes with negative.
 */
function* traceOutlines(
  mask: Uint8Array,
  labels: Int32Array,
  width: number,
  height: number,
): Generator<{ ring: Ring; label: number }> {
  const vw = width + 1;
  // Outgoing edge bits per vertex (bit d = direction d); `remaining` tracks edges not yet traced.
  const outgoing = new Uint8Array(vw * (height + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = y * width + x;
      if (!mask[k]) continue;
      if (y === 0 || !mask[k - width]) outgoing[y * vw + x] |= 1; // top side, going right
      if (x === width - 1 || !mask[k + 1]) outgoing[y * vw + x + 1] |= 2; // right side, going down
      if (y === height - 1 || !mask[k + width]) outgoing[(y + 1) * vw + x + 1] |= 4; // bottom side, going left
      if (x === 0 || !mask[k - 1]) outgoing[(y + 1) * vw + x] |= 8; // left side, going up
    }
  }
  const remaining = outgoing.slice();
  for (let v = 0; v < remaining.length; v++) {
    while (remaining[v]) {
      const startDir = 31 - Math.clz32(remaining[v] & -remaining[v]); // lowest set bit
      const sx = v % vw;
      const sy = (v - sx) / vw;
      const [px, py] = pixelOfEdge(sx, sy, startDir);
      const label = labels[py * width + px];
      const ring: Ring = [];
      let x = sx;
      let y = sy;
      let dir = startDir;
      for (;;) {
        remaining[y * vw + x] &= ~(1 << dir);
        x += DX[dir];
        y += DY[dir];
        const bits = outgoing[y * vw + x];
        // A saddle has two outgoing edges, perpendicular to the incoming one: take the right turn.
        const nextDir = bits & (1 << dir) ? dir : bits & (1 << ((dir + 1) & 3)) ? (dir + 1) & 3 : (dir + 3) & 3;
        if (nextDir !== dir) ring.push([x, y]);
        if (x === sx && y === sy && nextDir === startDir) break;
        dir = nextDir;
      }
      yield { ring, label };
    }
  }
}

/** The foreground pixel whose side is the edge leaving vertex (x, y) in direction `dir`. */
function pixelOfEdge(x: number, y: number, dir: number): [number, number] {
  switch (dir) {
    case 0:
      return [x, y];
    case 1:
      return [x - 1, y];
    case 2:
      return [x - 1, y - 1];
    default:
      return [x, y - 1];
  }
}

/**
 * Douglas-Peucker simplification that pins vertices on the map boundary: the ring is cut into chains between
 * pinned vertices and each chain is simplified with its ends fixed. A ring with no pinned vertex is anchored at
 * its first vertex and the vertex farthest from it.
 */
function simplifyRing(ring: Ring, tolerance: number, width: number, height: number): Ring {
  if (tolerance <= 0 || ring.length <= 4) return ring;
  const n = ring.length;
  const pinned: number[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = ring[i];
    if (x === 0 || y === 0 || x === width || y === height) pinned.push(i);
  }
  if (pinned.length === 0) {
    let far = 0;
    let best = -1;
    for (let i = 1; i < n; i++) {
      const d = (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2;
      if (d > best) {
        best = d;
        far = i;
      }
    }
    pinned.push(0, far);
  }
  const out: Ring = [];
  for (let p = 0; p < pinned.length; p++) {
    const from = pinned[p];
    const to = pinned[(p + 1) % pinned.length];
    const chain: Array<{ x: number; y: number }> = [];
    for (let i = from; ; i = (i + 1) % n) {
      chain.push({ x: ring[i][0], y: ring[i][1] });
      if (i === to && chain.length > 1) break;
    }
    const simplified = chain.length > 2 ? simplify(chain, tolerance, true) : chain;
    for (let i = 0; i < simplified.length - 1; i++) out.push([simplified[i].x, simplified[i].y]);
  }
  return out.length >= 3 ? out : ring;
}
