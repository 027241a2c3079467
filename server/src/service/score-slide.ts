/**
 * The ScoreSlide use case: a whole slide or a region -> progress as tiles finish, then one result: the tiles'
 * pieces joined into whole glomeruli, clipped to the region, and scored against the ground truth when one is given.
 * Every bound that depends on the slide is checked, and the ground truth read, before any inference.
 */
import { DICE_TILE } from '@glomseg/shared/constants.js';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import { intersectRects, type GlomerulusPolygon, type Rect } from '@glomseg/shared/geometry.js';
import type {
  Checked,
  ScoreEvent,
  ScoreProgress,
  ScoreSlideParams,
  TileOutcome,
  Timings,
  TruthInput,
  TruthScorer,
} from '@glomseg/shared/glomseg-service.js';
import { joinAcrossTiles } from '@glomseg/shared/join-polygons.js';
import { tissueAreaIn } from '@glomseg/shared/tissue-mask.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import { countTilesInRect, tilesInRect, type TileAddress } from '@glomseg/shared/tile-grid.js';
import type { ServingLimits } from '../validation/limits.js';
import { assertDiceGrid, assertTileBudget, regionOnSlide } from '../validation/request-validation.js';
import type { TileContext, TileContexts } from './tile-context.js';
import { zeroTimings, type TileRunner } from './tile-runner.js';

const PROGRESS_INTERVAL_MS = 100;

export interface ScoreSlideParts {
  contexts: TileContexts;
  runner: TileRunner;
  scoring: TruthScorer;
  limits: ServingLimits;
}

/** What a score covers, known before any inference. */
interface ScorePlan {
  context: TileContext;
  region: Rect;
  /** Row by row: neighbouring tiles share the slide's own tiles, which the decoded-tile cache then reuses. */
  tiles: TileAddress[];
  diceTile: { tileWidth: number; tileHeight: number };
  truth?: TruthInput;
  warnings: string[];
}

/** What the tiles gave, gathered as they finish. */
interface Gathered {
  pieces: GlomerulusPolygon[];
  timings: Timings;
}

export async function* scoreSlide(
  parts: ScoreSlideParts,
  params: Checked<ScoreSlideParams>,
  signal: AbortSignal,
): AsyncGenerator<ScoreEvent> {
  const started = performance.now();
  const plan = await planScore(parts, params, signal);
  const gathered: Gathered = { pieces: [], timings: zeroTimings() };
  // A whole-slide pass keeps no probabilities: it would only push out, tile by tile, what viewers keep for re-cuts
  // (a slide has thousands of tiles, the cache a few hundred), and a batch re-run at another threshold is a batch job.
  const outcomes = parts.runner.run(plan.context, plan.tiles, signal, { keepProbabilities: false });
  yield* withProgress(outcomes, plan.tiles.length, started, gathered);
  throwIfAborted(signal);
  const polygons = wholeGlomeruli(gathered.pieces, plan);
  const metrics = plan.truth
    ? await parts.scoring.scoreDice(plan.truth, polygons, plan.region, plan.diceTile, signal)
    : undefined;
  const { grid, tissueMap } = plan.context;
  const elapsedMs = performance.now() - started;
  const result = {
    slideId: grid.slideId,
    modelId: grid.modelId,
    region: plan.region,
    polygons,
    metrics,
    grid,
    elapsedMs,
    totalTimings: gathered.timings,
    tissueArea: tissueMap ? tissueAreaIn(tissueMap, plan.region) : undefined,
    warnings: plan.warnings,
  };
  yield { kind: 'result', result };
}

/** Opens the request and checks what it would cost, then reads the ground truth as scoring will: bad annotations fail fast. */
async function planScore(
  parts: ScoreSlideParts,
  params: Checked<ScoreSlideParams>,
  signal: AbortSignal,
): Promise<ScorePlan> {
  // Larger tiles than a viewer's: the same margin around more kept pixels (the card's scoreTileSize), unless the
  // caller wants the viewer's own grid (its figures then equal the viewer's exactly).
  const opened = await parts.contexts.open(params, signal, params.viewerGrid ? 'view' : 'score');
  const { grid } = opened;
  const region = regionOnSlide(params.region, grid);
  const diceTile = {
    tileWidth: params.diceTileWidth ?? DICE_TILE.tileWidth,
    tileHeight: params.diceTileHeight ?? DICE_TILE.tileHeight,
  };
  // Counted, not listed, before any parsing or inference.
  assertTileBudget(
    countTilesInRect(grid, region),
    parts.limits,
    `region ${region.width} x ${region.height} at ${grid.mppAssumed} um/px`,
  );
  if (params.annotations) assertDiceGrid(region, diceTile.tileWidth, diceTile.tileHeight, parts.limits);
  const tiles = tilesInRect(grid, region).sort((a, b) => a.row - b.row || a.col - b.col);
  const { annotations } = params;
  // Parsed off the serving thread. Annotations sent empty are refused there, not taken for "none".
  const truth: TruthInput | undefined = annotations && {
    ...annotations,
    name: annotations.name ?? opened.source.metadata.name,
    width: grid.slideWidth,
    height: grid.slideHeight,
    budget: parts.limits,
  };
  const warnings = truth ? (await parts.scoring.checkAnnotations(truth, signal)).warnings : [];
  const context = await parts.contexts.reading(opened, params, signal);
  return { context, region, tiles, diceTile, truth, warnings };
}

/** Progress at the start, then at most every PROGRESS_INTERVAL_MS and at the end; the tiles' pieces into `gathered`. */
async function* withProgress(
  outcomes: AsyncIterable<TileOutcome>,
  total: number,
  started: number,
  gathered: Gathered,
): AsyncGenerator<ScoreEvent> {
  const progress = (tilesDone: number, tilesSkipped: number, elapsedMs: number, etaMs: number): ScoreEvent => ({
    kind: 'progress',
    progress: { tilesDone, tilesTotal: total, tilesSkipped, elapsedMs, etaMs } satisfies ScoreProgress,
  });
  yield progress(0, 0, 0, 0);
  let done = 0;
  let skipped = 0;
  let lastProgress = 0;
  for await (const outcome of outcomes) {
    done++;
    if (outcome.skipped) skipped++;
    addTimings(gathered.timings, outcome.timings);
    for (const piece of outcome.polygons) gathered.pieces.push(piece);
    const now = performance.now();
    if (now - lastProgress >= PROGRESS_INTERVAL_MS || done === total) {
      lastProgress = now;
      const elapsedMs = now - started;
      // Skipped tiles cost nothing: the estimate comes from the inferred ones.
      const inferred = done - skipped;
      yield progress(done, skipped, elapsedMs, inferred > 0 ? (elapsedMs / inferred) * (total - done) : 0);
    }
  }
}

/**
 * Final polygons are whole glomeruli: a piece nothing joined to (at the slide's edge) no longer "touches" a tile.
 * Tiles keep small pieces at their edges (maybe slivers of something larger): only joined ones are judged. Those
 * cut by the edge of what was scored are judged alike: on the validation tiles, keeping them all added more false
 * slivers than it found glomeruli (F1 0.82 -> 0.76).
 */
function wholeGlomeruli(pieces: GlomerulusPolygon[], plan: ScorePlan): GlomerulusPolygon[] {
  const { minArea } = plan.context.cut;
  return joinAcrossTiles(pieces, { minHoleArea: minArea })
    .filter((p) => p.area >= minArea)
    .map((p) => (p.touches.length ? { ...p, touches: [] } : p))
    .filter((p) => intersectRects(polygonBBox(p), plan.region) !== undefined);
}

function addTimings(into: Timings, t: Timings): void {
  into.readMs += t.readMs;
  into.inferenceMs += t.inferenceMs;
  into.postprocessMs += t.postprocessMs;
  into.queueMs += t.queueMs;
}
