/**
 * The viewer reads ground truth as `glomseg score` does (shared readGroundTruth): only the glomerulus classes by
 * default, self-crossing outlines repaired, and what was left out or changed said in warnings.
 */
import { describe, expect, it } from 'vitest';
import { parseAnnotationText } from '../../plugin/src/annotation-source.js';

function feature(name: string, ring: number[][]) {
  return {
    type: 'Feature',
    properties: { objectType: 'annotation', classification: { name } },
    geometry: { type: 'Polygon', coordinates: [ring] },
  };
}
const square = (x: number, y: number, size: number) => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
  [x, y],
];
const qupath = (...features: object[]) => JSON.stringify({ type: 'FeatureCollection', features });

describe('parseAnnotationText', () => {
  it('counts only the glomerulus classes by default and says what it left out', () => {
    const loaded = parseAnnotationText(
      qupath(feature('Glomerulus', square(10, 10, 50)), feature('Tissue', square(0, 0, 400))),
      { name: 'a.geojson', width: 500, height: 500 },
    );
    expect(loaded.polygons).toHaveLength(1);
    expect(loaded.warnings.join(' ')).toContain('"Tissue" 1');
  });

  it('counts the classes asked for', () => {
    const loaded = parseAnnotationText(
      qupath(feature('Glomerulus', square(10, 10, 50)), feature('Tissue', square(0, 0, 400))),
      { width: 500, height: 500, classes: ['*'] },
    );
    expect(loaded.polygons).toHaveLength(2);
    expect(loaded.warnings).toEqual([]);
  });

  it('repairs a self-crossing outline into the pieces it encloses, and says so', () => {
    const bowTie = [
      [0, 0],
      [100, 100],
      [100, 0],
      [0, 100],
      [0, 0],
    ];
    const loaded = parseAnnotationText(qupath(feature('Glomerulus', bowTie)), { width: 500, height: 500 });
    expect(loaded.polygons).toHaveLength(2);
    expect(loaded.warnings.join(' ')).toContain('repaired');
  });

  it('leaves out shapes off the slide once its size is known, and keeps them while it is not', () => {
    const text = qupath(feature('Glomerulus', square(10, 10, 50)), feature('Glomerulus', square(900, 900, 50)));
    expect(parseAnnotationText(text, { width: 500, height: 500 }).polygons).toHaveLength(1);
    expect(parseAnnotationText(text).polygons).toHaveLength(2);
  });
});
