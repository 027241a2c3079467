/** labelme JSON: `shapes[]`, polygons and rectangles, each with its label. */
import { invalidAnnotations, isObject, registerAnnotationFormat, type AnnotationShape } from './registry.js';
import { toRing } from './points.js';

declare module './registry.js' {
  interface AnnotationFormats {
    labelme: true;
  }
}

function parseLabelme(json: unknown): AnnotationShape[] {
  if (!isObject(json) || !Array.isArray(json.shapes)) throw invalidAnnotations('the labelme JSON has no "shapes" list');
  const shapes: AnnotationShape[] = [];
  json.shapes.forEach((shape, index) => {
    const where = `labelme shape ${index}`;
    if (!isObject(shape)) throw invalidAnnotations(`${where} is not a JSON object`);
    const label = typeof shape.label === 'string' && shape.label.trim() ? { label: shape.label.trim() } : {};
    const type = shape.shape_type ?? 'polygon';
    if (type !== 'polygon' && type !== 'rectangle') return; // points, lines, circles: not scored
    const points = toRing(shape.points, where);
    if (type === 'rectangle') {
      if (points.length !== 2)
        throw invalidAnnotations(`${where} is a rectangle with ${points.length} points, expected 2 corners`);
      const [[xa, ya], [xb, yb]] = points;
      const [x0, x1] = [Math.min(xa, xb), Math.max(xa, xb)];
      const [y0, y1] = [Math.min(ya, yb), Math.max(ya, yb)];
      if (x1 > x0 && y1 > y0)
        shapes.push({
          polygon: {
            exterior: [
              [x0, y0],
              [x1, y0],
              [x1, y1],
              [x0, y1],
            ],
            holes: [],
          },
          where,
          ...label,
        });
      return;
    }
    if (points.length >= 3) shapes.push({ polygon: { exterior: points, holes: [] }, where, ...label });
  });
  return shapes;
}

registerAnnotationFormat({
  name: 'labelme',
  description: 'labelme JSON',
  lacks: 'labelme (no "shapes" list)',
  json: true,
  extensions: ['.json'],
  // Above GeoJSON's 1: a labelme file may also carry a "type", but only labelme has a "shapes" list.
  detect: (_text, json) => (isObject(json) && Array.isArray(json.shapes) ? 2 : 0),
  parse: (_text, json) => parseLabelme(json),
});
