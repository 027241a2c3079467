/**
 * Scan-line rasterisation of polygons into a window of level-0 pixels, plus area and bounding box.
 * Pixel (i, j) of the slide is inside a polygon when its centre (i + 0.5, j + 0.5) is inside. Within one polygon
 * the exterior and its holes are filled with the even-odd rule; separate polygons are OR-ed together, so
 * overlapping polygons never cancel out. Only the window is allocated, so large slides are rasterised piecewise.
 */
import { pointCount, ringsOf, type Polygon, type Rect, type Ring } from './geometry.js';
import { GlomsegError } from './errors.js';

/** Signed shoelace area of a ring: positive when it runs clockwise on screen (x right, y down). */
export function ringSignedArea(ring: Ring): number {
  let sum = 0;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) sum += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return sum / 2;
}

/** Area of a polygon: |exterior| minus |holes|, in square units of its coordinates. */
export function polygonArea(polygon: Polygon): number {
  let area = Math.abs(ringSignedArea(polygon.exterior));
  for (const hole of polygon.holes) area -= Math.abs(ringSignedArea(hole));
  return Math.max(0, area);
}

/** Bounding box of the exterior ring (holes lie inside it). */
export function polygonBBox(polygon: Polygon): Rect {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of polygon.exterior) {
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (minX > maxX) return { x: 0, y: 0, width: 0, height: 0 };
  return { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}

/** True when two rectangles overlap or touch, within `tolerance`. */
export function rectsTouch(a: Rect, b: Rect, tolerance = 0): boolean {
  return (
    a.x <= b.x + b.width + tolerance &&
    b.x <= a.x + a.width + tolerance &&
    a.y <= b.y + b.height + tolerance &&
    b.y <= a.y + a.height + tolerance
  );
}

function assertWindow(window: Rect): void {
  const { x, y, width, height } = window;
  if (![x, y, width, height].every(Number.isInteger) || width < 0 || height < 0) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `raster window ${JSON.stringify(window)} must have integer x, y and a non-negative integer size`,
    );
  }
}

/**
 * Rasterises polygons into a row-major mask of `window.width * window.height` bytes (1 inside, 0 outside);
 * mask index `(j - window.y) * window.width + (i - window.x)` holds slide pixel (i, j).
 * Pass `into` to reuse a buffer of at least that size (it is cleared first).
 */
export function rasterizePolygons(polygons: readonly Polygon[], window: Rect, into?: Uint8Array): Uint8Array {
  assertWindow(window);
  const size = window.width * window.height;
  let mask: Uint8Array;
  if (into) {
    if (into.length < size)
      throw new GlomsegError('INVALID_ARGUMENT', `raster buffer holds ${into.length} pixels, the window needs ${size}`);
    mask = into.length === size ? into : into.subarray(0, size);
    mask.fill(0);
  } else {
    mask = new Uint8Array(size);
  }
  for (const polygon of polygons) fillPolygon(polygon, window, mask);
  return mask;
}

/** Number of pixels inside the polygons within a window (the OR of all polygons). */
export function countPolygonPixels(polygons: readonly Polygon[], window: Rect): number {
  const mask = rasterizePolygons(polygons, window);
  let count = 0;
  for (let k = 0; k < mask.length; k++) count += mask[k];
  return count;
}

function fillPolygon(polygon: Polygon, window: Rect, mask: Uint8Array): void {
  const box = polygonBBox(polygon);
  // Rows whose centre (j + 0.5) falls in [minY, maxY), clipped to the window.
  const rowStart = Math.max(window.y, Math.ceil(box.y - 0.5));
  const rowEnd = Math.min(window.y + window.height, Math.ceil(box.y + box.height - 0.5));
  const colStart = window.x;
  const colEnd = window.x + window.width;
  if (rowStart >= rowEnd || box.x + box.width <= colStart - 0.5 || box.x >= colEnd + 0.5) return;

  // Edge table: non-horizontal edges as (yMin, yMax, x at yMin, dx/dy).
  const rings = ringsOf(polygon);
  const edgeCount = pointCount(polygon);
  const yMin = new Float64Array(edgeCount);
  const yMax = new Float64Array(edgeCount);
  const xAtMin = new Float64Array(edgeCount);
  const slope = new Float64Array(edgeCount);
  let e = 0;
  for (const ring of rings) {
    const n = ring.length;
    if (n < 3) continue;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [x0, y0] = ring[j];
      const [x1, y1] = ring[i];
      if (y0 === y1) continue;
      if (y0 < y1) {
        yMin[e] = y0;
        yMax[e] = y1;
        xAtMin[e] = x0;
      } else {
        yMin[e] = y1;
        yMax[e] = y0;
        xAtMin[e] = x1;
      }
      slope[e] = (x1 - x0) / (y1 - y0);
      e++;
    }
  }
  const order = Array.from({ length: e }, (_, k) => k).sort((a, b) => yMin[a] - yMin[b]);
  const active: number[] = [];
  const crossings: number[] = [];
  let next = 0;
  for (let row = rowStart; row < rowEnd; row++) {
    const yc = row + 0.5;
    while (next < order.length && yMin[order[next]] <= yc) active.push(order[next++]);
    crossings.length = 0;
    let w = 0;
    for (let a = 0; a < active.length; a++) {
      const k = active[a];
      if (yMax[k] <= yc) continue; // half-open [yMin, yMax): a shared vertex is counted once
      active[w++] = k;
      crossings.push(xAtMin[k] + (yc - yMin[k]) * slope[k]);
    }
    active.length = w;
    if (crossings.length < 2) continue;
    crossings.sort((a, b) => a - b);
    const rowOffset = (row - window.y) * window.width - window.x;
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      // Pixels whose centre i + 0.5 lies in [xa, xb).
      const from = Math.max(colStart, Math.ceil(crossings[c] - 0.5));
      const to = Math.min(colEnd, Math.ceil(crossings[c + 1] - 0.5));
      for (let i = from; i < to; i++) mask[rowOffset + i] = 1;
    }
  }
}
