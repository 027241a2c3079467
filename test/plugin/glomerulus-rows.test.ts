/** The viewer's glomerulus table rows from the map's features: ids in reading order, statuses, areas in µm². */
import { describe, expect, it } from 'vitest';
import Feature from 'ol/Feature.js';
import OlPolygon from 'ol/geom/Polygon.js';
import { glomerulusRows } from '../../plugin/src/glomerulus-rows.js';

/** A square at slide (x, y) of side s, in map coordinates (y = -slide y). */
const square = (x: number, y: number, s: number) =>
  new OlPolygon([
    [
      [x, -y],
      [x + s, -y],
      [x + s, -y - s],
      [x, -y - s],
      [x, -y],
    ],
  ]);

describe('glomerulusRows', () => {
  it('numbers predictions top to bottom then left to right, with their Dice class, and the missed truth after', () => {
    const predictions = [
      new Feature({ geometry: square(500, 100, 20), area: 400, meanProbability: 0.9, class: 'false-positive' }),
      new Feature({ geometry: square(100, 100, 20), area: 400, meanProbability: 0.8, class: 'true-positive' }),
      new Feature({ geometry: square(100, 900, 10), area: 100, meanProbability: 0.7 }),
      // The previous threshold's feature, waiting for its tile at the new one: not a glomerulus of this cut.
      new Feature({ geometry: square(50, 50, 10), area: 100, meanProbability: 0.6, stale: true }),
    ];
    const annotations = [
      new Feature({ geometry: square(100, 100, 20), class: 'true-positive' }),
      new Feature({ geometry: square(800, 800, 30), class: 'missed' }),
      new Feature({ geometry: square(900, 900, 30), class: 'unscored' }),
    ];
    const rows = glomerulusRows(predictions, annotations, 0.5);
    expect(rows.map((r) => [r.id, r.status, r.areaPx, r.areaUm2, r.meanProbability])).toEqual([
      ['G1', 'TP', 400, 100, 0.8],
      ['G2', 'FP', 400, 100, 0.9],
      ['G3', '—', 100, 25, 0.7],
      ['M1', 'FN', 900, 225, undefined],
    ]);
    expect(rows[3].extent).toEqual([800, -830, 830, -800]);
  });

  it('gives areas in px only when the pixel size is unknown', () => {
    const [row] = glomerulusRows([new Feature({ geometry: square(0, 0, 10), meanProbability: 0.5 })], [], undefined);
    expect(row).toMatchObject({ id: 'G1', areaPx: 100, areaUm2: undefined, status: '—' });
  });
});
