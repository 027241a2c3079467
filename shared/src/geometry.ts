/** Plain geometry types shared by server, CLI and plugin. Coordinates are level-0 slide pixels, x right, y down. */

/** A closed ring as [x, y] points; the first point is not repeated at the end. */
export type Ring = Array<[number, number]>;

/** A polygon: one exterior ring and zero or more holes. */
export interface Polygon {
  exterior: Ring;
  holes: Ring[];
}

/** A polygon's rings, the exterior first. */
export function ringsOf(polygon: Polygon): Ring[] {
  return [polygon.exterior, ...polygon.holes];
}

/** How many points a polygon's rings hold together. */
export function pointCount(polygon: Polygon): number {
  return polygon.exterior.length + polygon.holes.reduce((sum, ring) => sum + ring.length, 0);
}

/** Whether (x, y) lies inside a ring, by the even-odd rule (a point on an edge may fall either way). */
export function pointInRing(x: number, y: number, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Largest slide coordinate accepted anywhere (regions, annotations): BigTIFF slides stay far below it. */
export const MAX_COORDINATE = 2 ** 30;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where two rectangles overlap; undefined when they do not (touching edges do not count). */
export function intersectRects(a: Rect, b: Rect): Rect | undefined {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

export type TileEdge = 'top' | 'right' | 'bottom' | 'left';

/** A predicted glomerulus (or a piece of one, before joining across tiles). */
export interface GlomerulusPolygon extends Polygon {
  /** Area in level-0 square pixels. */
  area: number;
  /** Mean foreground probability over the pixels inside. */
  meanProbability: number;
  /** Tile edges this polygon touches; empty after joining. */
  touches: TileEdge[];
}
