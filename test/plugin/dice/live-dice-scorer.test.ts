/**
 * The plugin's live, tile-by-tile Dice against the one-shot shared computation the CLI uses, on the real ground truth
 * (fixed predictions here; the real tiles' joined predictions in live-dice-scorer.real-tiles.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { parseAnnotations } from '@glomseg/shared/annotations.js';
import { computeDiceMetrics } from '@glomseg/shared/dice.js';
import type { Polygon } from '@glomseg/shared/geometry.js';
import { tileBounds, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { LiveDiceScorer } from '../../../plugin/src/dice/live-dice-scorer.js';
import { KIDNEY_REGION_GEOJSON } from '../../helpers/paths.js';

const grid: TileGrid = {
  slideId: 'kidney-region.tif',
  modelId: 'test',
  scale: 2,
  level: 1,
  levelDownsample: 2,
  tileSize: 512,
  tileSizeLevel0: 1024,
  margin: 64,
  sizeMultiple: 32,
  cols: 7,
  rows: 5,
  slideWidth: 6400,
  slideHeight: 4800,
  mppAssumed: 0.5,
  mppSource: 'file',
};

async function truthAndPredictions(): Promise<{ truth: Polygon[]; predicted: Polygon[] }> {
  const truth = parseAnnotations(await readFile(KIDNEY_REGION_GEOJSON, 'utf8'));
  // Predictions: the truth moved by a few pixels, every seventh glomerulus missed and a bogus one added.
  const predicted: Polygon[] = truth
    .filter((_, i) => i % 7 !== 3)
    .map((p, i) => ({ exterior: p.exterior.map(([x, y]) => [x + (i % 3) * 6, y - 4] as [number, number]), holes: [] }));
  predicted.push({
    exterior: [
      [100, 4000],
      [300, 4000],
      [300, 4200],
      [100, 4200],
    ],
    holes: [],
  });
  return { truth, predicted };
}

describe('LiveDiceScorer', () => {
  it('matches the one-shot Dice of the whole region once every tile has arrived, in any order', async () => {
    const { truth, predicted } = await truthAndPredictions();
    const scorer = new LiveDiceScorer(grid, truth);
    const tiles = Array.from({ length: grid.cols * grid.rows }, (_, i) => ({
      col: i % grid.cols,
      row: Math.floor(i / grid.cols),
    }));
    tiles.sort((a, b) => ((a.col * 31 + a.row * 17) % 11) - ((b.col * 31 + b.row * 17) % 11));
    for (const tile of tiles) scorer.addTile(tile);
    expect(scorer.score(predicted)).toBe(true);
    const live = scorer.result(predicted);
    const reference = computeDiceMetrics(predicted, truth, { x: 0, y: 0, width: 6400, height: 4800 });
    expect(live.metrics.globalDice).toBeCloseTo(reference.globalDice, 12);
    expect(live.metrics.meanTileDice).toBeCloseTo(reference.meanTileDice, 12);
    expect(live.metrics.diceTiles).toBe(16);
    expect(live.metrics).toMatchObject({
      truePositives: reference.truePositives,
      falsePositives: reference.falsePositives,
      falseNegatives: reference.falseNegatives,
      predictedArea: reference.predictedArea,
      truthArea: reference.truthArea,
      tilesScored: 35,
      areaScored: 6400 * 4800,
    });
    expect(reference.globalDice).toBeGreaterThan(0.5);
    expect(reference.globalDice).toBeLessThan(0.99);
    expect(live.predictedClasses.filter((c) => c === 'true-positive')).toHaveLength(reference.truePositives);
    expect(live.truthClasses.filter((c) => c === 'missed')).toHaveLength(reference.falseNegatives);
    expect(live.truthClasses).not.toContain('unscored');
  });

  it('scores only the tiles received so far', async () => {
    const { truth, predicted } = await truthAndPredictions();
    const scorer = new LiveDiceScorer(grid, truth);
    const received = [
      { col: 0, row: 0 },
      { col: 1, row: 0 },
      { col: 0, row: 1 },
      { col: 1, row: 1 },
    ];
    for (const tile of received) scorer.addTile(tile);
    scorer.addTile({ col: 1, row: 1 }); // a repeat counts once
    scorer.score(predicted);
    const live = scorer.result(predicted);
    const area = { x: 0, y: 0, width: 2048, height: 2048 };
    const reference = computeDiceMetrics(predicted, truth, area);
    expect(live.metrics.areaScored).toBe(2048 * 2048);
    expect(live.metrics.predictedArea).toBe(reference.predictedArea);
    expect(live.metrics.intersectionArea).toBe(reference.intersectionArea);
    expect(live.metrics.globalDice).toBeCloseTo(reference.globalDice, 12);
    // The 1600 x 1200 grid tile at (0, 0) is covered; the one at (1, 0) needs model tile (2, 0) too.
    expect(live.metrics.diceTiles).toBe(1);
    expect(live.truthClasses).toContain('unscored');
    const bounds = received.map((t) => tileBounds(grid, t));
    expect(bounds.reduce((sum, b) => sum + b.width * b.height, 0)).toBe(live.metrics.areaScored);
  });

  it('scores a tile again when a later tile changes the polygons over it, so the end is the one-shot Dice', async () => {
    const { truth, predicted } = await truthAndPredictions();
    const scorer = new LiveDiceScorer(grid, truth);
    const tiles = Array.from({ length: grid.cols * grid.rows }, (_, i) => ({
      col: i % grid.cols,
      row: Math.floor(i / grid.cols),
    }));
    // A prediction that first reaches only into tile (1, 1), then (a neighbour joined it) across into tile (2, 1).
    const small = {
      exterior: [
        [1900, 1100],
        [2040, 1100],
        [2040, 1300],
        [1900, 1300],
      ] as [number, number][],
      holes: [],
    };
    const joined = {
      exterior: [
        [1900, 1100],
        [2300, 1100],
        [2300, 1300],
        [1900, 1300],
      ] as [number, number][],
      holes: [],
    };
    let drawn = [...predicted, small];
    for (const tile of tiles) scorer.addTile(tile);
    scorer.score(drawn);
    drawn = [...predicted, joined];
    scorer.predictionsChanged({
      added: [{ id: 'j', polygon: { ...joined, area: 0, meanProbability: 1, touches: [] } }],
      removed: [{ id: 's', polygon: { ...small, area: 0, meanProbability: 1, touches: [] } }],
    });
    expect(scorer.pending).toBe(true);
    let slices = 0;
    while (!scorer.score(drawn, () => slices++ % 2 === 0)); // in slices of one window
    const live = scorer.result(drawn).metrics;
    const reference = computeDiceMetrics(drawn, truth, { x: 0, y: 0, width: 6400, height: 4800 });
    expect(live.predictedArea).toBe(reference.predictedArea);
    expect(live.globalDice).toBe(reference.globalDice);
    expect(live.meanTileDice).toBe(reference.meanTileDice);
    expect(slices).toBeGreaterThan(2);
  });
});
