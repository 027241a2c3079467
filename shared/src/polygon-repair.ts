/**
 * Outlines that cross themselves, and their repair. Rasterising fills such a polygon by the even-odd rule while
 * its shoelace area (what object counting uses) cancels out, so a bow tie covers pixels yet counts as nothing:
 * ground truth is repaired into simple polygons before either sees it.
 */
import polygonClipping from 'polygon-clipping';
import { pointCount, pointInRing, ringsOf, type Polygon, type Ring } from './geometry.js';

function orientation(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  return cross > 0 ? 1 : cross < 0 ? -1 : 0;
}

/** Whether c, known to be on the line through a and b, lies within their box. */
function onSegment(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): boolean {
  return Math.min(ax, bx) <= cx && cx <= Math.max(ax, bx) && Math.min(ay, by) <= cy && cy <= Math.max(ay, by);
}

/** Whether segments ab and cd cross or touch. */
function segmentsMeet(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
  dx: number,
  dy: number,
): boolean {
  const o1 = orientation(ax, ay, bx, by, cx, cy);
  const o2 = orientation(ax, ay, bx, by, dx, dy);
  const o3 = orientation(cx, cy, dx, dy, ax, ay);
  const o4 = orientation(cx, cy, dx, dy, bx, by);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) ||
    (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy)) ||
    (o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay)) ||
    (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by))
  );
}

/**
 * Consecutive edges s->e and s->f (from their shared vertex s) overlap only when the outline turns straight back
 * on itself: e and f on one line, on the same side of s.
 */
function turnsBack(sx: number, sy: number, ex: number, ey: number, fx: number, fy: number): boolean {
  return orientation(sx, sy, ex, ey, fx, fy) === 0 && (ex - sx) * (fx - sx) + (ey - sy) * (fy - sy) > 0;
}

/**
 * True when a polygon is not simple: an edge crosses or touches another that is not its neighbour (within a ring
 * or between rings), an outline turns back on itself, or a hole starts outside the exterior. A sweep over the
 * edges sorted by x compares only edges whose boxes overlap, so an ordinary outline costs about n log n.
 */
export function crossesItself(polygon: Polygon): boolean {
  const rings = ringsOf(polygon);
  const count = pointCount(polygon);
  // Edges as flat arrays (a hot loop over millions of pairs for a hostile outline): endpoints, box, ring, index.
  const ax = new Float64Array(count);
  const ay = new Float64Array(count);
  const bx = new Float64Array(count);
  const by = new Float64Array(count);
  const minX = new Float64Array(count);
  const maxX = new Float64Array(count);
  const minY = new Float64Array(count);
  const maxY = new Float64Array(count);
  const ringOf = new Int32Array(count);
  const indexOf = new Int32Array(count);
  let e = 0;
  rings.forEach((ring, r) => {
    for (let i = 0; i < ring.length; i++, e++) {
      [ax[e], ay[e]] = ring[i];
      [bx[e], by[e]] = ring[(i + 1) % ring.length];
      minX[e] = Math.min(ax[e], bx[e]);
      maxX[e] = Math.max(ax[e], bx[e]);
      minY[e] = Math.min(ay[e], by[e]);
      maxY[e] = Math.max(ay[e], by[e]);
      ringOf[e] = r;
      indexOf[e] = i;
    }
  });
  const order = Int32Array.from({ length: count }, (_, k) => k).sort((p, q) => minX[p] - minX[q]);
  const active = new Int32Array(count);
  let activeCount = 0;
  for (let o = 0; o < count; o++) {
    const k = order[o];
    const kMinX = minX[k];
    const kMinY = minY[k];
    const kMaxY = maxY[k];
    let kept = 0;
    for (let a = 0; a < activeCount; a++) {
      const j = active[a];
      if (maxX[j] < kMinX) continue; // wholly left of every edge still to come
      active[kept++] = j;
      if (maxY[j] < kMinY || minY[j] > kMaxY) continue;
      if (ringOf[j] === ringOf[k]) {
        const n = rings[ringOf[k]].length;
        const gap = Math.abs(indexOf[j] - indexOf[k]);
        if (gap === 1 || gap === n - 1) {
          // Neighbours share a vertex: j ends where k starts, or k ends where j starts.
          const jFirst = (indexOf[j] + 1) % n === indexOf[k];
          const back = jFirst
            ? turnsBack(bx[j], by[j], ax[j], ay[j], bx[k], by[k])
            : turnsBack(ax[j], ay[j], bx[j], by[j], ax[k], ay[k]);
          if (n > 2 && back) return true;
          continue;
        }
      }
      if (segmentsMeet(ax[j], ay[j], bx[j], by[j], ax[k], ay[k], bx[k], by[k])) return true;
    }
    activeCount = kept;
    active[activeCount++] = k;
  }
  return polygon.holes.some((hole) => hole.length > 0 && !pointInRing(hole[0][0], hole[0][1], polygon.exterior));
}

function openRing(ring: ReadonlyArray<readonly [number, number] | number[]>): Ring {
  const points = ring.map(([x, y]) => [x, y] as [number, number]);
  const [first, last] = [points[0], points[points.length - 1]];
  if (points.length > 1 && first[0] === last[0] && first[1] === last[1]) points.pop();
  return points;
}

/**
 * The simple polygons covering what a polygon encloses (its union with itself, by polygon-clipping): a bow tie
 * becomes its two triangles, a loop is cut off as its own piece, a hole outside the exterior is dropped.
 * Nothing is returned for an outline that encloses no area.
 */
export function repairPolygon(polygon: Polygon): Polygon[] {
  const rings = [polygon.exterior, ...polygon.holes].map((ring) => ring.map(([x, y]) => [x, y] as [number, number]));
  return polygonClipping.union(rings).map((pieces) => {
    const [exterior, ...holes] = pieces.map(openRing);
    return { exterior, holes };
  });
}
