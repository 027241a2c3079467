import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { computeDiceMetrics } from '@glomseg/shared/dice.js';
import { GLOMERULUS_CLASSES, readGroundTruth } from '@glomseg/shared/ground-truth.js';
import { polygonArea } from '@glomseg/shared/rasterize.js';
import { DATA, KIDNEY_REGION_GEOJSON } from '../helpers/paths.js';

const SLIDE = { width: 6400, height: 4800 };
const evalRegion = () => JSON.parse(readFileSync(KIDNEY_REGION_GEOJSON, 'utf8'));
const square = (x: number, y: number, size: number) => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
  [x, y],
];
const feature = (ring: number[][], name?: string) => ({
  type: 'Feature',
  properties: name === undefined ? {} : { objectType: 'annotation', classification: { name } },
  geometry: { type: 'Polygon', coordinates: [ring] },
});
/** The evaluation region's 60 glomeruli plus a QuPath "Tissue" annotation over the whole region. */
function withTissue(): string {
  const collection = evalRegion();
  collection.features.push(
    feature(
      square(0, 0, 6400).map(([x, y]) => [x, Math.min(y, 4800)]),
      'Tissue',
    ),
  );
  return JSON.stringify(collection);
}

function refusal(run: () => unknown): GlomsegError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GlomsegError);
    return error as GlomsegError;
  }
  throw new Error('expected a refusal');
}

describe('readGroundTruth: classes', () => {
  it('reads the evaluation region as it is: 60 glomeruli, nothing to say', () => {
    const truth = readGroundTruth(readFileSync(KIDNEY_REGION_GEOJSON, 'utf8'), SLIDE);
    expect(truth.polygons).toHaveLength(60);
    expect(truth.warnings).toEqual([]);
  });

  it('leaves a QuPath "Tissue" annotation out by default and says so; counts it when asked by name', () => {
    const content = withTissue();
    const byDefault = readGroundTruth(content, SLIDE);
    expect(byDefault.polygons).toHaveLength(60);
    expect(byDefault.warnings).toEqual([
      expect.stringMatching(
        /ground truth is the 60 shapes of the glomerulus classes \(Glomerulus, Glomeruli, Glom\); left out 1 shape of other classes \("Tissue" 1\).*--truth-class/,
      ),
    ]);
    expect(readGroundTruth(content, { ...SLIDE, classes: ['tissue'] }).polygons.map(polygonArea)).toEqual([
      6400 * 4800,
    ]);
    expect(readGroundTruth(content, { ...SLIDE, classes: ['Glomerulus', 'Tissue'] }).polygons).toHaveLength(61);
    expect(readGroundTruth(content, { ...SLIDE, classes: ['*'] }).polygons).toHaveLength(61);
    // Dice against the glomeruli themselves: perfect by default, ruined had the tissue counted.
    const glomeruli = readGroundTruth(content, SLIDE).polygons;
    const region = { x: 0, y: 0, ...SLIDE };
    expect(computeDiceMetrics(glomeruli, readGroundTruth(content, SLIDE).polygons, region).globalDice).toBe(1);
    expect(
      computeDiceMetrics(glomeruli, readGroundTruth(content, { ...SLIDE, classes: ['*'] }).polygons, region).globalDice,
    ).toBeLessThan(0.2);
  });

  it('matches the default names without case, derived classes by their first part; others are left out', () => {
    const content = JSON.stringify([
      feature(square(10, 10, 20), 'glomerulus'),
      feature(square(40, 10, 20), 'GLOMERULI'),
      feature(square(70, 10, 20), 'Glomerulus: Sclerotic'),
      feature(square(100, 10, 20), 'Glom'),
      feature(square(130, 10, 20), 'Glomerulus (predicted)'),
      feature(square(160, 10, 20)),
    ]);
    const truth = readGroundTruth(content, SLIDE);
    expect(truth.polygons).toHaveLength(4);
    expect(truth.warnings[0]).toMatch(
      /left out 2 shapes of other classes \("Glomerulus \(predicted\)" 1, unclassified 1\)/,
    );
    expect(GLOMERULUS_CLASSES).toEqual(['Glomerulus', 'Glomeruli', 'Glom']);
  });

  it('leaves a labelme "Tubule" out of a tile of "Glomeruli"', () => {
    const labelme = JSON.parse(readFileSync(path.join(DATA, 'hubmap-vu/tiles/106.json'), 'utf8'));
    labelme.shapes.push({
      label: 'Tubule',
      shape_type: 'polygon',
      points: [
        [10, 10],
        [200, 10],
        [200, 200],
        [10, 200],
      ],
      group_id: null,
      flags: {},
    });
    const truth = readGroundTruth(JSON.stringify(labelme), { width: 1600, height: 1200 });
    expect(truth.polygons).toHaveLength(1);
    expect(truth.warnings[0]).toMatch(/left out 1 shape of other classes \("Tubule" 1\)/);
    expect(
      readGroundTruth(JSON.stringify(labelme), { width: 1600, height: 1200, classes: ['Tubule'] }).polygons,
    ).toHaveLength(1);
  });

  it('counts every shape of a file that classifies none (plain GeoJSON, RLE), saying so when classes were asked for', () => {
    const plain = JSON.stringify({
      type: 'FeatureCollection',
      features: [feature(square(10, 10, 20)), feature(square(40, 10, 20))],
    });
    expect(readGroundTruth(plain, SLIDE)).toMatchObject({ warnings: [] });
    expect(readGroundTruth(plain, SLIDE).polygons).toHaveLength(2);
    const asked = readGroundTruth(plain, { ...SLIDE, classes: ['Tissue'] });
    expect(asked.polygons).toHaveLength(2);
    expect(asked.warnings).toEqual([
      expect.stringMatching(
        /classify none of their shapes, so all 2 count as glomeruli; the truth classes asked for \(Tissue\) were not applied/,
      ),
    ]);
    expect(
      readGroundTruth('id,encoding\nslide,1 3\n', { width: 4, height: 3, classes: ['Tissue'] }).polygons,
    ).toHaveLength(1);
  });

  it('warns when no shape is of the classes counted', () => {
    const content = JSON.stringify([feature(square(10, 10, 20), 'Tissue')]);
    const truth = readGroundTruth(content, SLIDE);
    expect(truth.polygons).toEqual([]);
    expect(truth.warnings[0]).toMatch(
      /^no annotation is of the glomerulus classes .*nothing counts as ground truth; left out 1 shape/,
    );
  });
});

describe('readGroundTruth: refusals and repairs, before any scoring', () => {
  it('refuses a 0-byte file instead of reading it as "no annotations"', () => {
    const error = refusal(() => readGroundTruth('', SLIDE));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/empty \(0 bytes\)/);
  });

  it('refuses annotations that all lie off the slide, saying where they are', () => {
    const collection = evalRegion();
    for (const f of collection.features)
      f.geometry.coordinates = f.geometry.coordinates.map((ring: number[][]) => ring.map(([x, y]) => [x + 100_000, y]));
    const error = refusal(() => readGroundTruth(JSON.stringify(collection), SLIDE));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(
      /none of the 60 ground-truth shapes lies on the 6400 x 4800 slide: they span x 10[0-9.]+\.\.10[0-9.]+, y .*another slide, or at another scale/,
    );
  });

  it('leaves out the shapes wholly off the slide, and says which; one that only touches its edge covers no pixel of it', () => {
    const content = JSON.stringify([
      feature(square(10, 10, 20), 'Glomerulus'),
      feature(square(6390, 10, 20), 'Glomerulus'),
      feature(square(6400, 10, 20), 'Glomerulus'),
      feature(square(-50, 4900, 20), 'Glomerulus'),
    ]);
    const truth = readGroundTruth(content, SLIDE);
    expect(truth.polygons).toHaveLength(2);
    expect(truth.warnings).toEqual([
      '2 of 4 ground-truth shapes lie wholly outside the slide and are left out (the slide is 6400 x 4800 pixels): feature 2, feature 3',
    ]);
  });

  it('refuses a coordinate of 1e308 with words, not a JavaScript error from the scoring maths', () => {
    const content = JSON.stringify([
      feature(
        [
          [0, 0],
          [1e308, 0],
          [10, 10],
          [0, 0],
        ],
        'Glomerulus',
      ),
    ]);
    const error = refusal(() => readGroundTruth(content, SLIDE));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe(
      'feature 0 ring 0 point 1 (1e+308, 0) is beyond +-1073741824 pixels; coordinates are level-0 slide pixels',
    );
  });

  it('repairs a bow tie into its two triangles and says so: rasterised and counted alike', () => {
    const bowTie = [
      [100, 100],
      [300, 300],
      [300, 100],
      [100, 300],
      [100, 100],
    ];
    const content = JSON.stringify([feature(bowTie, 'Glomerulus'), feature(square(1000, 1000, 100), 'Glomerulus')]);
    const truth = readGroundTruth(content, SLIDE);
    expect(truth.polygons).toHaveLength(3);
    expect(truth.warnings).toEqual([
      '1 ground-truth shape crossed or touched its own outline and was repaired into the simple polygons enclosed, each piece counted and rasterised as one glomerulus: feature 0 (2 pieces)',
    ]);
    // Predicting the two triangles exactly: every truth pixel and every truth object is found.
    const triangles = truth.polygons.slice(0, 2);
    const metrics = computeDiceMetrics([...triangles, truth.polygons[2]], truth.polygons, { x: 0, y: 0, ...SLIDE });
    expect(metrics).toMatchObject({ globalDice: 1, truthCount: 3, truePositives: 3, falseNegatives: 0 });
    expect(metrics.truthArea).toBeCloseTo(20_000 + 10_000, -3);
  });

  it('leaves out an outline that encloses no area, and says so', () => {
    const content = JSON.stringify([
      feature(
        [
          [100, 100],
          [110, 100],
          [105, 100],
          [100, 100],
        ],
        'Glomerulus',
      ),
      feature(square(10, 10, 20), 'Glomerulus'),
    ]);
    const truth = readGroundTruth(content, SLIDE);
    expect(truth.polygons).toHaveLength(1);
    expect(truth.warnings).toEqual(['1 ground-truth shape encloses no area and is left out: feature 0']);
  });
});
