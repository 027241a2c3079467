/** The overlay's predictions as a QuPath GeoJSON file (FeatureCollection, level-0 pixels). */
import { toQuPathGeoJson, type GeoJsonFeatureCollection } from '@glomseg/shared/annotations.js';
import type { PredictionSession } from '../../layers/prediction-layer.js';

export type ExportObjectType = 'detection' | 'annotation';

/** The session's joined glomeruli, with its scale and slide name for QuPath (none: an empty collection). */
export function predictionsGeoJson(
  session: PredictionSession | undefined,
  objectType: ExportObjectType,
): GeoJsonFeatureCollection {
  return toQuPathGeoJson(session?.store.polygons() ?? [], {
    objectType,
    mpp: session?.model.grid.mppAssumed,
    mppSource: session?.model.grid.mppSource,
    idScope: session?.slide.name,
  });
}

/** Saves a collection through a download link, named after the slide. */
export function downloadGeoJson(collection: GeoJsonFeatureCollection, slideName = 'slide'): void {
  const blob = new Blob([JSON.stringify(collection)], { type: 'application/geo+json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `${slideName}-glomseg.geojson`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
