/** Ground truths that cost seconds of CPU to score, or that the cost bounds refuse, as GeoJSON text. */

/** `round`: whole-pixel vertices (shorter text: 2.5 M of them make about 30 MB). */
export function starRing(vertices: number, cx: number, cy: number, inner: number, outer: number, round = false): Array<[number, number]> {
  const at = round ? Math.round : (v: number) => v;
  return Array.from({ length: vertices }, (_, i) => {
    const angle = (2 * Math.PI * i) / vertices;
    const r = i % 2 ? outer : inner;
    return [at(cx + r * Math.cos(angle)), at(cy + r * Math.sin(angle))] as [number, number];
  });
}

export function geoJsonOf(rings: Array<Array<[number, number]>>): string {
  return JSON.stringify({
    type: 'FeatureCollection',
    features: rings.map((ring) => ({
      type: 'Feature',
      properties: { objectType: 'annotation', classification: { name: 'Glomerulus' } },
      geometry: { type: 'Polygon', coordinates: [[...ring, ring[0]]] },
    })),
  });
}

/** `count` small squares on a grid: many polygons, few vertices each. */
export function manySquares(count: number, step = 12): Array<Array<[number, number]>> {
  const perRow = Math.ceil(Math.sqrt(count));
  return Array.from({ length: count }, (_, i) => {
    const x = (i % perRow) * step;
    const y = Math.floor(i / perRow) * step;
    return [[x, y], [x + 8, y], [x + 8, y + 8], [x, y + 8]] as Array<[number, number]>;
  });
}
