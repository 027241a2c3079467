/**
 * A saved version as QuPath GeoJSON, through the shared exporter (shared/src/annotations.ts): each reviewed region
 * an annotation of QuPath's class "Region*", each glomerulus an annotation of class "Glomerulus" (the ground-truth
 * name glomseg score and import read back) that says where it came from. Ids are scoped by slide and version.
 */
import { GLOMERULUS_CLASSES } from '@glomseg/shared/ground-truth.js';
import type { GlomerulusPolygon, Polygon } from '@glomseg/shared/geometry.js';
import { polygonArea } from '@glomseg/shared/rasterize.js';
import { toQuPathGeoJson } from '@glomseg/shared/annotations.js';
import type { SlideAnnotations } from '@glomseg/shared/reviewed-annotations.js';

/** QuPath's own class for areas of interest; import takes shapes of a class starting "Region" as reviewed regions. */
export const REGION_CLASS = { name: 'Region*', color: [0, 0, 180] as [number, number, number] };
const GLOMERULUS_CLASS = { name: GLOMERULUS_CLASSES[0], color: [0, 200, 0] as [number, number, number] };

function asExported(polygon: Polygon): GlomerulusPolygon {
  return { ...polygon, area: polygonArea(polygon), meanProbability: 1, touches: [] };
}

export function annotationsToGeoJson(annotations: SlideAnnotations): string {
  const { slideId, version } = annotations.version;
  const idScope = `${slideId}|v${version}`;
  const regions = toQuPathGeoJson(
    annotations.regions.map((region) => asExported({ exterior: region.outline, holes: [] })),
    { objectType: 'annotation', className: REGION_CLASS.name, color: REGION_CLASS.color, idScope: `${idScope}|region` },
  );
  const glomeruli = annotations.regions.flatMap((region) => region.glomeruli.map((g) => ({ region: region.id, g })));
  const exported = toQuPathGeoJson(
    glomeruli.map(({ g }) => asExported(g)),
    { objectType: 'annotation', className: GLOMERULUS_CLASS.name, color: GLOMERULUS_CLASS.color, idScope },
  );
  // Drawn and accepted outlines carry no model probability; they carry their region and source instead.
  const features = [
    ...regions.features.map((feature, i) => ({
      ...feature,
      properties: { ...feature.properties, name: annotations.regions[i].id, measurements: {} },
    })),
    ...exported.features.map((feature, i) => ({
      ...feature,
      properties: {
        ...feature.properties,
        measurements: { 'Area px^2': feature.properties.measurements['Area px^2'] },
        metadata: { region: glomeruli[i].region, source: glomeruli[i].g.source },
      },
    })),
  ];
  return JSON.stringify({ type: 'FeatureCollection', features });
}
