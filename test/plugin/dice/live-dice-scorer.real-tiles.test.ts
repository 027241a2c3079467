/**
 * The viewer's live Dice on the real eval-region tiles, in shuffled arrival orders, against the server's ScoreSlide
 * (what `glomseg score` prints). Real server, real slide, real model: the tiles' pieces are the ones StreamTiles
 * sends a viewer. Once every tile is in, the figures must be the CLI's exactly, whatever order the tiles came in
 * (the viewer gave 0.8973 to 0.9003 between page loads where the CLI gave 0.8984).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkListModels, checkScoreSlide, checkStreamTiles } from '@glomseg/api/server/request-checks.js';
import { readFile } from 'node:fs/promises';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { minAreaOnSlide, type TileGrid } from '@glomseg/shared/tile-grid.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { TileOutcome } from '@glomseg/shared/glomseg-service.js';
import { GlomsegApp } from '../../../server/src/app.js';
import { ModelRegistry } from '../../../server/src/inference/model-registry.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, MODELS } from '../../helpers/paths.js';
import { parseAnnotationText } from '../../../plugin/src/annotation-source.js';
import { PredictionStore } from '../../../plugin/src/prediction-store.js';
import { LiveDiceScorer } from '../../../plugin/src/dice/live-dice-scorer.js';
import type { ReceivedTile } from '../../../plugin/src/tile-stream.js';

const SLIDE = 'kidney-region.tif';

let app: GlomsegApp;
let grid: TileGrid;
let card: ModelCard;
let tiles: ReceivedTile[];
let reference: { metrics: DiceMetrics; polygons: GlomerulusPolygon[] };
let truthText: string;

beforeAll(async () => {
  // ScoreSlide on StreamTiles' grid: the live scorer's tiles are the viewer's (its default windows are larger).
  const { card: shipped } = (await ModelRegistry.load({ folder: MODELS })).defaultModel();
  app = await GlomsegApp.start({
    scoreTileSize: shipped.tileSize,
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: false,
    device: 'cpu',
  });
  const [model] = await app.service.listModels(checkListModels({ slideId: SLIDE }));
  grid = model.grid!;
  card = model.card;
  const all = Array.from({ length: grid.cols * grid.rows }, (_, i) => ({
    col: i % grid.cols,
    row: Math.floor(i / grid.cols),
  }));
  const outcomes: TileOutcome[] = [];
  for await (const outcome of app.service.streamTiles(
    checkStreamTiles({ slideId: SLIDE, tiles: all }),
    AbortSignal.timeout(600_000),
  ))
    outcomes.push(outcome);
  tiles = outcomes.map(({ tile, bounds, polygons, cached, tissueFraction }) => ({
    tile,
    bounds,
    polygons,
    cached,
    tissueFraction,
  }));
  truthText = await readFile(KIDNEY_REGION_GEOJSON, 'utf8');
  for await (const event of app.service.scoreSlide(
    checkScoreSlide({ slideId: SLIDE, annotations: { content: truthText, format: 'geojson' } }),
    AbortSignal.timeout(600_000),
  )) {
    if (event.kind === 'result') reference = { metrics: event.result.metrics!, polygons: event.result.polygons };
  }
}, 900_000);

afterAll(async () => {
  await app?.close();
});

/** A seeded shuffle (mulberry32), so a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const FIGURES = [
  'globalDice',
  'meanTileDice',
  'diceTiles',
  'predictedArea',
  'truthArea',
  'intersectionArea',
  'truePositives',
  'falsePositives',
  'falseNegatives',
  'precision',
  'recall',
  'f1',
] as const;

function figures(metrics: DiceMetrics): Record<string, number> {
  return Object.fromEntries(FIGURES.map((key) => [key, metrics[key]]));
}

/**
 * What the viewer shows once every tile of `order` has arrived, fed tile by tile as the overlay feeds its scorer,
 * scored after every `scoreEvery` tiles (the overlay scores between frames while tiles keep coming).
 */
function liveFigures(
  order: readonly ReceivedTile[],
  scoreEvery: number,
): { figures: Record<string, number>; polygons: GlomerulusPolygon[] } {
  const truth = parseAnnotationText(truthText, { name: 'kidney-region.geojson' }).polygons;
  const store = new PredictionStore(minAreaOnSlide(card, grid));
  const scorer = new LiveDiceScorer(grid, truth);
  order.forEach((tile, i) => {
    const change = store.addTile(tile);
    scorer.predictionsChanged(change);
    scorer.addTile(tile.tile);
    if ((i + 1) % scoreEvery === 0) scorer.score(store.polygons());
  });
  const polygons = store.polygons();
  expect(scorer.score(polygons)).toBe(true);
  return { figures: figures(scorer.result(polygons).metrics), polygons };
}

const shape = (polygons: GlomerulusPolygon[]) =>
  polygons.map((p) => `${p.area.toFixed(6)}:${p.exterior.length}:${p.holes.length}`).sort();

describe('the live Dice on the real eval-region tiles', () => {
  it('draws the polygons ScoreSlide scores, and equals its figures exactly in any arrival order', () => {
    expect(tiles).toHaveLength(grid.cols * grid.rows);
    expect(reference.metrics.globalDice).toBeGreaterThan(0.8);
    const expected = figures(reference.metrics);
    const seen = new Set<string>();
    for (const [seed, scoreEvery] of [
      [1, 1],
      [2, 1],
      [3, 2],
      [5, 3],
      [8, 1],
      [13, 5],
    ]) {
      const live = liveFigures(shuffled(tiles, seed), scoreEvery);
      expect(shape(live.polygons), `order ${seed}: the drawn polygons`).toEqual(shape(reference.polygons));
      expect(live.figures, `order ${seed}`).toEqual(expected);
      seen.add(JSON.stringify(live.figures));
    }
    expect(seen.size).toBe(1);
  }, 300_000);
});
