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
  readBack: (text) => parseAnnotations(text, { format: 'geojson' }).map((p) => ({ ...p, area: polygonArea(p), meanProbability: 0, touches: [] })),
});
