/**
 * The viewer's glomerulus table from what the map draws: each prediction (its area, mean probability and match
 * class, as the Dice controller set it on the feature) and each true glomerulus the model missed, as report.html
 * tables them (shared/glomerulus-table.ts), with each one's place on the map to zoom to.
 */
import type Feature from 'ol/Feature.js';
import type { Geometry } from 'ol/geom.js';
import type OlPolygon from 'ol/geom/Polygon.js';
import type { GlomerulusRow } from '@glomseg/shared/glomerulus-table.js';

export interface ViewerGlomerulusRow extends GlomerulusRow {
  /** Bounding box in map coordinates. */
  extent: number[];
}

/** Top to bottom, then left to right, as the slide is read (map y grows upwards in either pixel origin). */
function readingOrder(a: Feature<Geometry>, b: Feature<Geometry>): number {
  const [ea, eb] = [a.getGeometry()!.getExtent(), b.getGeometry()!.getExtent()];
  return eb[3] - ea[3] || ea[0] - eb[0];
}

function withGeometry(features: readonly Feature<Geometry>[]): Feature<Geometry>[] {
  return features.filter((feature) => feature.getGeometry()).sort(readingOrder);
}

/** `mpp`: level-0 µm/px, when known (areas in µm² then). */
export function glomerulusRows(
  predictions: readonly Feature<Geometry>[],
  annotations: readonly Feature<Geometry>[],
  mpp: number | undefined,
): ViewerGlomerulusRow[] {
  const um2 = (px: number) => (mpp ? px * mpp * mpp : undefined);
  const rows: ViewerGlomerulusRow[] = withGeometry(predictions)
    .filter((feature) => !feature.get('stale'))
    .map((feature, i) => {
      const areaPx = (feature.get('area') as number | undefined) ?? (feature.getGeometry() as OlPolygon).getArea();
      const cls = feature.get('class') as string | undefined;
      const p = feature.get('meanProbability') as number | undefined;
      return {
        id: `G${i + 1}`,
        areaPx,
        areaUm2: um2(areaPx),
        meanProbability: Number.isFinite(p) ? p : undefined,
        status: cls === 'true-positive' ? 'TP' : cls === 'false-positive' ? 'FP' : '—',
        extent: feature.getGeometry()!.getExtent(),
      };
    });
  const missed = withGeometry(annotations).filter((feature) => feature.get('class') === 'missed');
  missed.forEach((feature, i) => {
    const areaPx = (feature.getGeometry() as OlPolygon).getArea();
    rows.push({
      id: `M${i + 1}`,
      areaPx,
      areaUm2: um2(areaPx),
      meanProbability: undefined,
      status: 'FN',
      extent: feature.getGeometry()!.getExtent(),
    });
  });
  return rows;
}
