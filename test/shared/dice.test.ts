import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Polygon } from '@glomseg/shared/geometry.js';
import { parseAnnotations } from '@glomseg/shared/annotations.js';
import {
  computeDiceMetrics,
  createDiceAccumulator,
  matchObjectPairs,
  matchObjects,
  polygonIoU,
  poolDiceMetrics,
} from '@glomseg/shared/dice.js';
import { DATA as dataDir } from '../helpers/paths.js';

const rect = (x0: number, y0: number, x1: number, y1: number): Polygon => ({
  exterior: [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ],
  holes: [],
});
const tiles10 = { tileWidth: 10, tileHeight: 10 };

describe('computeDiceMetrics on hand-checked squares', () => {
  it('scores a square against a copy shifted by half its width', () => {
    // X = [0,10)^2, Y = [5,15) x [0,10): |X| = |Y| = 100, overlap 50.
    const m = computeDiceMetrics(
      [rect(0, 0, 10, 10)],
      [rect(5, 0, 15, 10)],
      { x: 0, y: 0, width: 40, height: 10 },
      tiles10,
    );
    expect(m.globalDice).toBe(0.5);
    expect([m.predictedArea, m.truthArea, m.intersectionArea]).toEqual([100, 100, 50]);
    // Tiles: [0,10): 2*50/(100+50); [10,20): 0 (truth only); two empty tiles count 1 each.
    expect(m.diceTiles).toBe(4);
    expect(m.meanTileDice).toBeCloseTo((2 / 3 + 0 + 1 + 1) / 4, 12);
    // IoU 50/150 < 0.5: no match.
    expect(m).toMatchObject({
      truePositives: 0,
      falsePositives: 1,
      falseNegatives: 1,
      precision: 0,
      recall: 0,
      f1: 0,
      truthCount: 1,
    });
    expect([m.diceTileWidth, m.diceTileHeight]).toEqual([10, 10]);
  });

  it('matches a square shifted by 2 pixels (IoU 80/120)', () => {
    expect(polygonIoU(rect(0, 0, 10, 10), rect(2, 0, 12, 10))).toBeCloseTo(2 / 3, 12);
    const m = computeDiceMetrics(
      [rect(0, 0, 10, 10)],
      [rect(2, 0, 12, 10)],
      { x: 0, y: 0, width: 25, height: 10 },
      tiles10,
    );
    expect(m.globalDice).toBe(0.8);
    expect(m.diceTiles).toBe(3); // 10 + 10 + 5 columns
    expect(m).toMatchObject({ truePositives: 1, falsePositives: 0, falseNegatives: 0, precision: 1, recall: 1, f1: 1 });
  });

  it('counts a glomerulus split in two predicted pieces as one true positive and one false positive', () => {
    const m = matchObjects([rect(0, 0, 6, 10), rect(6, 0, 10, 10)], [rect(0, 0, 10, 10)]);
    expect(m).toMatchObject({ truePositives: 1, falsePositives: 1, falseNegatives: 0, precision: 0.5, recall: 1 });
    expect(m.f1).toBeCloseTo(2 / 3, 12);
  });

  it('matches one to one, best IoU first', () => {
    // Two predictions overlap the same truth at IoU 0.9 and 0.6: only the better one matches.
    const m = matchObjects([rect(0, 0, 6, 10), rect(0, 0, 9, 10)], [rect(0, 0, 10, 10)]);
    expect(m.truePositives).toBe(1);
    expect(m.falsePositives).toBe(1);
    const pairs = matchObjectPairs(
      [rect(0, 0, 6, 10), rect(0, 0, 9, 10), rect(50, 50, 60, 60)],
      [rect(0, 0, 10, 10), rect(51, 50, 61, 60)],
    );
    expect(pairs.map(({ predicted, truth }) => [predicted, truth])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(pairs[0].iou).toBeCloseTo(0.9, 12);
  });

  it('scores nothing against nothing as perfect', () => {
    const m = computeDiceMetrics([], [], { x: 0, y: 0, width: 30, height: 30 }, tiles10);
    expect(m).toMatchObject({
      globalDice: 1,
      meanTileDice: 1,
      diceTiles: 9,
      precision: 1,
      recall: 1,
      f1: 1,
      truthCount: 0,
    });
  });

  it('accumulates tile by tile to the same result', () => {
    const predicted = [rect(0, 0, 10, 10), rect(20, 3, 27, 9)];
    const truth = [rect(5, 0, 15, 10), rect(21, 2, 28, 9)];
    const region = { x: 0, y: 0, width: 30, height: 10 };
    const accumulator = createDiceAccumulator(region, tiles10);
    for (const index of [2, 0, 1, 0]) accumulator.addTile(index, predicted, truth);
    expect(accumulator.tileRect(2)).toEqual({ x: 20, y: 0, width: 10, height: 10 });
    expect(accumulator.finish(predicted, truth)).toEqual(computeDiceMetrics(predicted, truth, region, tiles10));
    expect(() => accumulator.addTile(3, predicted, truth)).toThrowError(/outside the grid of 3 tiles/);
  });

  it('pools slides by summing pixel and object counts, and averages Dice over all their tiles', () => {
    // Slide 1: overlap 50 of 100 + 100 over 4 tiles; slide 2: overlap 80 of 100 + 100 over 3 tiles.
    const one = computeDiceMetrics(
      [rect(0, 0, 10, 10)],
      [rect(5, 0, 15, 10)],
      { x: 0, y: 0, width: 40, height: 10 },
      tiles10,
    );
    const two = computeDiceMetrics(
      [rect(0, 0, 10, 10)],
      [rect(2, 0, 12, 10)],
      { x: 0, y: 0, width: 25, height: 10 },
      tiles10,
    );
    const pooled = poolDiceMetrics([one, two]);
    expect(pooled.globalDice).toBeCloseTo((2 * (50 + 80)) / 400, 12);
    expect(pooled.diceTiles).toBe(7);
    expect(pooled.meanTileDice).toBeCloseTo((one.meanTileDice * 4 + two.meanTileDice * 3) / 7, 12);
    expect(pooled).toMatchObject({
      truePositives: 1,
      falsePositives: 1,
      falseNegatives: 1,
      truthCount: 2,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
    });
    expect([pooled.predictedArea, pooled.truthArea, pooled.intersectionArea]).toEqual([200, 200, 130]);
    expect(() => poolDiceMetrics([])).toThrowError(/no metrics/);
  });

  it('rejects a bad region or tile size', () => {
    expect(() => computeDiceMetrics([], [], { x: 0, y: 0, width: 0, height: 5 })).toThrowError(/positive size/);
    expect(() => computeDiceMetrics([], [], { x: 0, y: 0, width: 5, height: 5 }, { tileWidth: 0 })).toThrowError(
      /tile size/,
    );
  });
});

describe('computeDiceMetrics on the evaluation region ground truth', () => {
  const truth = parseAnnotations(
    readFileSync(path.join(dataDir, 'hubmap-vu/eval-region/kidney-region.geojson'), 'utf8'),
  );
  const region = { x: 0, y: 0, width: 6400, height: 4800 };

  it('scores the ground truth against itself as 1', () => {
    expect(truth).toHaveLength(60);
    const m = computeDiceMetrics(truth, truth, region);
    expect(m).toMatchObject({
      globalDice: 1,
      meanTileDice: 1,
      diceTiles: 16,
      diceTileWidth: 1600,
      diceTileHeight: 1200,
    });
    expect(m).toMatchObject({ truePositives: 60, falsePositives: 0, falseNegatives: 0, f1: 1, truthCount: 60 });
    expect(m.truthArea).toBeGreaterThan(60 * 10_000); // glomeruli are ~100-300 px across at 0.5 um/px
    expect(m.intersectionArea).toBe(m.truthArea);
  });

  it('scores a copy shifted 30 pixels to the right below 1, still matching most glomeruli', () => {
    const shifted = truth.map((p) => ({
      exterior: p.exterior.map(([x, y]) => [x + 30, y] as [number, number]),
      holes: [],
    }));
    const m = computeDiceMetrics(shifted, truth, region);
    expect(m.globalDice).toBeLessThan(0.95);
    expect(m.globalDice).toBeGreaterThan(0.5);
    expect(m.meanTileDice).toBeLessThan(1);
    expect(m.truePositives).toBeGreaterThan(40);
    expect(m.truePositives + m.falseNegatives).toBe(60);
  });
});
