/**
 * One order for a slide's polygons: the server sends them as tiles finish, which differs from run to run (and
 * server to server), so the CLI sorts them before writing; the same slide then always gives the same files.
 */
import type { Polygon } from '@glomseg/shared/geometry.js';

/** Top-left of the exterior's bounding box (y, then x), then the ring's length and vertices. */
export function comparePolygons(a: Polygon, b: Polygon): number {
  const [ax, ay] = topLeft(a);
  const [bx, by] = topLeft(b);
  if (ay !== by) return ay - by;
  if (ax !== bx) return ax - bx;
  const ra = a.exterior;
  const rb = b.exterior;
  if (ra.length !== rb.length) return ra.length - rb.length;
  for (let i = 0; i < ra.length; i++) {
    if (ra[i][1] !== rb[i][1]) return ra[i][1] - rb[i][1];
    if (ra[i][0] !== rb[i][0]) return ra[i][0] - rb[i][0];
  }
  return 0;
}

function topLeft(polygon: Polygon): [number, number] {
  let x = Infinity;
  let y = Infinity;
  for (const [px, py] of polygon.exterior) {
    if (px < x) x = px;
    if (py < y) y = py;
  }
  return [x, y];
}
