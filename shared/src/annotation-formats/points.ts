/** A JSON list of [x, y] points as a ring of level-0 slide pixels: the GeoJSON and labelme readers share it. */
import { MAX_COORDINATE, type Ring } from '../geometry.js';
import { invalidAnnotations } from './registry.js';

export function toRing(points: unknown, where: string): Ring {
  if (!Array.isArray(points)) throw invalidAnnotations(`${where} is not a list of points`);
  const ring: Ring = points.map((point, i) => {
    if (!Array.isArray(point) || point.length < 2 || !Number.isFinite(point[0]) || !Number.isFinite(point[1])) {
      throw invalidAnnotations(
        `${where} point ${i} is not an [x, y] pair of numbers: ${JSON.stringify(point)?.slice(0, 60)}`,
      );
    }
    // Slide coordinates are level-0 pixels: far beyond any slide is a wrong unit or a broken file, and past this
    // the areas and boxes computed from it lose their meaning.
    if (Math.abs(point[0]) > MAX_COORDINATE || Math.abs(point[1]) > MAX_COORDINATE) {
      throw invalidAnnotations(
        `${where} point ${i} (${point[0]}, ${point[1]}) is beyond +-${MAX_COORDINATE} pixels; coordinates are level-0 slide pixels`,
      );
    }
    return [point[0] as number, point[1] as number];
  });
  return openAndDedupe(ring);
}

/** Drops the repeated closing point and consecutive duplicates. */
function openAndDedupe(ring: Ring): Ring {
  const out: Ring = [];
  for (const point of ring) {
    const last = out[out.length - 1];
    if (!last || last[0] !== point[0] || last[1] !== point[1]) out.push(point);
  }
  while (out.length > 1 && out[0][0] === out[out.length - 1][0] && out[0][1] === out[out.length - 1][1]) out.pop();
  return out;
}
