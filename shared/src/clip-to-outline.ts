/**
 * Polygons cut to an outline (a reviewed region): what lies outside it was never reviewed, so it is neither a
 * glomerulus nor "no glomerulus" and must not be scored. Exact, by polygon-clipping.
 */
import polygonClipping from 'polygon-clipping';
import { pointInRing, type Polygon, type Ring } from './geometry.js';
import { polygonArea, polygonBBox, rectsTouch } from './rasterize.js';

/** polygon-clipping repeats each ring's first point at its end; our rings do not. */
function openRing(ring: ReadonlyArray<readonly [number, number] | number[]>): Ring {
  const points = ring.map(([x, y]) => [x, y] as [number, number]);
  const [first, last] = [points[0], points[points.length - 1]];
  if (points.length > 1 && first[0] === last[0] && first[1] === last[1]) points.pop();
  return points;
}

function centroidInside(polygon: Polygon, outline: Polygon): boolean {
  const n = polygon.exterior.length;
  const x = polygon.exterior.reduce((sum, p) => sum + p[0], 0) / n;
  const y = polygon.exterior.reduce((sum, p) => sum + p[1], 0) / n;
  return pointInRing(x, y, outline.exterior) && !outline.holes.some((hole) => pointInRing(x, y, hole));
}

/**
 * The parts of `polygons` inside `outline`, each with area. A polygon a concave outline cuts in two gives two
 * pieces. Where polygon-clipping gives up on a degenerate ring, the polygon is kept whole if its centre is inside.
 */
export function clipToOutline(polygons: readonly Polygon[], outline: Polygon): Polygon[] {
  const box = polygonBBox(outline);
  const clip = [outline.exterior, ...outline.holes];
  const pieces: Polygon[] = [];
  for (const polygon of polygons) {
    if (polygon.exterior.length < 3 || !rectsTouch(polygonBBox(polygon), box)) continue;
    let parts: Polygon[];
    try {
      parts = polygonClipping.intersection([polygon.exterior, ...polygon.holes], clip).map((rings) => {
        const [exterior, ...holes] = rings.map(openRing);
        return { exterior, holes };
      });
    } catch {
      parts = centroidInside(polygon, outline) ? [polygon] : [];
    }
    for (const part of parts) if (polygonArea(part) > 0) pieces.push(part);
  }
  return pieces;
}
