/** `<slide>.geojson`: the slide's polygons as QuPath objects, written when the slide finishes. */
import { parseAnnotations, toQuPathGeoJson, type QuPathExportOptions } from '@glomseg/shared/annotations.js';
import { polygonArea } from '@glomseg/shared/rasterize.js';
import { registerSlideExport } from './registry.js';

registerSlideExport({
  fileName: (name) => `${name}.geojson`,
  write: ({ result, polygons, objectType }) => {
    const mppSource = result.scale?.source as QuPathExportOptions['mppSource'];
    return `${JSON.stringify(toQuPathGeoJson(polygons, { mpp: result.scale?.mpp, mppSource, idScope: result.name, objectType }))}\n`;
  },
  readBack: (text) => {
    // The mean probability is the measurement written above; each feature is one Polygon, so they are in step.
    const measured = (
      JSON.parse(text).features as Array<{ properties?: { measurements?: Record<string, number> } }>
    ).map((f) => f.properties?.measurements?.['Mean probability']);
    const polygons = parseAnnotations(text, { format: 'geojson' });
    const inStep = measured.length === polygons.length;
    return polygons.map((p, i) => ({
      ...p,
      area: polygonArea(p),
      meanProbability: inStep ? (measured[i] ?? Number.NaN) : Number.NaN,
      touches: [],
    }));
  },
});
