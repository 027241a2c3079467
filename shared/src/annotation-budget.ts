/**
 * Cost bounds of a ground truth, checked right after parsing and before any rasterising or matching: Dice and
 * object matching grow with the vertices of each polygon and with their number.
 */
import type { Polygon } from './geometry.js';
import { GlomsegError } from './errors.js';

export interface AnnotationBudget {
  maxPolygons: number;
  maxVerticesPerPolygon: number;
  maxVertices: number;
}

export function polygonVertices(polygon: Polygon): number {
  let n = polygon.exterior.length;
  for (const hole of polygon.holes) n += hole.length;
  return n;
}

export function assertAnnotationBudget(
  polygons: readonly Polygon[],
  budget: AnnotationBudget,
): { polygons: number; vertices: number } {
  if (polygons.length > budget.maxPolygons) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `the annotations hold ${polygons.length} polygons; at most ${budget.maxPolygons} per request`,
    );
  }
  let vertices = 0;
  polygons.forEach((polygon, index) => {
    const n = polygonVertices(polygon);
    if (n > budget.maxVerticesPerPolygon) {
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `annotation polygon ${index} has ${n} vertices; at most ${budget.maxVerticesPerPolygon} per polygon (simplify it)`,
      );
    }
    vertices += n;
  });
  if (vertices > budget.maxVertices) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `the annotations hold ${vertices} vertices; at most ${budget.maxVertices} per request`,
    );
  }
  return { polygons: polygons.length, vertices };
}
