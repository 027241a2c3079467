/**
 * The glomseg domain service: slides in, glomerulus polygons out. Yields AsyncIterables and knows nothing of
 * gRPC; the protocol layers translate. Tiles of all streams share one scheduler and one result cache.
 */
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { Segmenter } from '@glomseg/shared/segmenter.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import type { Rect } from '@glomseg/shared/geometry.js';
import { abortable, GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import {
  assertTileInGrid,
  countTilesInRect,
  minAreaOnSlide,
  planTileGrid,
  tileBounds,
  tileKey,
  tileReadWindow,
  tilesInRect,
  type TileAddress,
  type TileGrid,
} from '@glomseg/shared/tile-grid.js';
import { joinAcrossTiles } from '@glomseg/shared/join-polygons.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import { resolveStainMethod, type StainMapping } from '@glomseg/shared/stain-normalization.js';
import { tissueIn, type TissueMap } from '@glomseg/shared/tissue-mask.js';
import { LRUCache } from 'lru-cache';
import { resolveLimits, type ServingLimits } from '../validation/limits.js';
import { assertDiceGrid, assertTileBudget } from '../validation/request-validation.js';
import { ResultCache, type CachedTile } from './result-cache.js';
import { surveySlide, type SlideSurvey } from './slide-survey.js';
import { TileScheduler, type SchedulerStats } from './tile-scheduler.js';
import { predictTile, type PredictedTile } from './tile-pipeline.js';
import { ProbabilityCache } from './probability-cache.js';
import { traceTile, type TileCut } from '@glomseg/shared/trace-tile.js';
import { readViewerTile } from './viewer-tiles.js';
import { estimateSlideScale } from './scale-estimator.js';
import type { ScaleEstimate } from '@glomseg/shared/scale-estimate.js';
import type {
  GlomsegService,
  ModelProvider,
  ModelSummary,
  ScoreEvent,
  ScoreSlideParams,
  SlideInfo,
  SlideProvider,
  SlideSummary,
  TileReadingParams,
  StreamTilesParams,
  TileOutcome,
  Timings,
  TruthInput,
  TruthScorer,
  ViewerTile,
} from '@glomseg/shared/glomseg-service.js';

export interface ServiceOptions {
  slides: SlideProvider;
  models: ModelProvider;
  scoring: TruthScorer;
  /** Tiles processed at once (reads overlap inference); default 3. */
  concurrency?: number;
  maxQueuedTiles?: number;
  /** Tiles one stream keeps in flight; bounds memory and keeps the queue fair. Default concurrency + 1. */
  streamWindow?: number;
  cacheBytes?: number;
  /** Cost bounds checked before work starts (tiles per request, Dice grid, annotation size). */
  limits?: Partial<ServingLimits>;
  /** Told each computed tile's stage timings (metrics). */
  onTileComputed?: (timings: Timings) => void;
  /** Bytes of kept tile probabilities, to re-cut tiles at a new threshold without the model (default 128 MB). */
  probabilityCacheBytes?: number;
}

export interface ServiceStats {
  activeStreams: number;
  completedStreams: number;
  cancelledStreams: number;
  failedStreams: number;
  tilesFromCache: number;
  tilesComputed: number;
  /** Tiles of bare glass, not inferred. */
  tilesSkipped: number;
  /** Tiles cut again at a new threshold from cached probabilities, without running the model. */
  tilesRecut: number;
  scheduler: SchedulerStats;
  cache: { entries: number; bytes: number };
}

const DEFAULT_DICE_TILE = { width: 1600, height: 1200 };
const PROGRESS_INTERVAL_MS = 100;

function zeroTimings(): Timings {
  return { readMs: 0, inferenceMs: 0, postprocessMs: 0, queueMs: 0 };
}

function addTimings(into: Timings, t: Timings): void {
  into.readMs += t.readMs;
  into.inferenceMs += t.inferenceMs;
  into.postprocessMs += t.postprocessMs;
  into.queueMs += t.queueMs;
}

function requireSlideId(slideId: string | undefined): string {
  if (!slideId || !slideId.trim()) throw new GlomsegError('INVALID_ARGUMENT', 'slide_id is required');
  return slideId;
}

function resolveThreshold(requested: number | undefined, card: ModelCard): number {
  if (requested === undefined || requested === 0) return card.threshold;
  if (!Number.isFinite(requested) || requested <= 0 || requested >= 1) {
    throw new GlomsegError('INVALID_ARGUMENT', `threshold ${requested} must lie between 0 and 1 (exclusive)`);
  }
  return requested;
}

function intersect(a: Rect, b: Rect): Rect | undefined {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

interface TileContext {
  source: SlideSource;
  card: ModelCard;
  grid: TileGrid;
  threshold: number;
  segmenter: Segmenter;
  device: string;
  /** Colour mapping applied to every tile of this slide, when normalising. */
  stain?: StainMapping;
  /** Where the tissue is, when tiles of bare glass are skipped. */
  tissue?: TissueMap;
  skipBackground: boolean;
}

export class DomainGlomsegService implements GlomsegService {
  private readonly scheduler: TileScheduler<PredictedTile>;
  private readonly cache: ResultCache;
  private readonly probabilities: ProbabilityCache;

  private readonly streamWindow: number;
  readonly limits: ServingLimits;
  /**
   * Scale estimates of slides whose file records no pixel size, per slide and model: made once, shared, and bounded
   * like the surveys (a server that sees thousands of slides keeps the recent ones).
   */
  private readonly scaleEstimates = new LRUCache<string, Promise<ScaleEstimate>>({ max: 256 });
  private readonly lifetime = new AbortController();
  private readonly counters = {
    activeStreams: 0,
    completedStreams: 0,
    cancelledStreams: 0,
    failedStreams: 0,
    tilesFromCache: 0,
    tilesComputed: 0,
    tilesSkipped: 0,
    tilesRecut: 0,
  };
  /** One survey per slide (stain statistics, tissue map), the recent 64 kept. */
  private readonly surveys = new LRUCache<string, Promise<SlideSurvey>>({ max: 64 });

  constructor(private readonly options: ServiceOptions) {
    const concurrency = options.concurrency ?? 3;
    this.scheduler = new TileScheduler<PredictedTile>({ concurrency, maxQueued: options.maxQueuedTiles ?? 2048 });
    this.cache = new ResultCache(options.cacheBytes ?? 64 * 1024 * 1024);
    // A tile keeps its whole window (384 x 384 floats for the default model, 576 KiB): 128 MB keep about 220 tiles,
    // a few screens of view.
    this.probabilities = new ProbabilityCache(options.probabilityCacheBytes ?? 128 * 1024 * 1024);
    this.streamWindow = options.streamWindow ?? concurrency + 1;
    this.limits = resolveLimits(options.limits);
  }

  async listSlides(signal?: AbortSignal): Promise<SlideSummary[]> {
    return this.options.slides.list(signal);
  }

  async getSlideInfo(slideId: string, signal?: AbortSignal): Promise<SlideInfo> {
    const source = await this.options.slides.open(requireSlideId(slideId), signal);
    // A slide whose pixels cannot be read (an unsupported compression) is still described; its stain is not.
    const survey = await this.survey(source, signal).catch((error: unknown) => {
      if (signal?.aborted) throw error;
      return { failure: (error as Error)?.message ?? String(error) };
    });
    if ('failure' in survey) return { ...source.metadata, stain: { level: -1, tissueMapped: false, unmeasuredBecause: survey.failure } };
    const unmeasuredBecause = survey.stain ? undefined : 'the low-resolution view shows too little tissue';
    return { ...source.metadata, stain: { statistics: survey.stain, level: survey.level, tissueMapped: survey.tissue !== undefined, unmeasuredBecause } };
  }

  /** The slide's survey, measured once per slide and kept (a few hundred KB each, bounded count). */
  private survey(source: SlideSource, signal?: AbortSignal): Promise<SlideSurvey> {
    const key = source.metadata.id;
    let survey = this.surveys.get(key);
    if (!survey) {
      // Not tied to the first caller's signal: later callers share the same measurement.
      survey = surveySlide(source);
      survey.catch(() => this.surveys.delete(key));
      this.surveys.set(key, survey);
    }
    return signal ? abortable(survey, signal) : survey;
  }

  async listModels(options: { slideId?: string; mppOverride?: number }, signal?: AbortSignal): Promise<ModelSummary[]> {
    const cards = this.options.models.list();
    const source = options.slideId ? await this.options.slides.open(options.slideId, signal) : undefined;
    const summaries: ModelSummary[] = [];
    for (const card of cards) {
      const mppEstimate = source ? await this.scaleEstimate(source, card, options.mppOverride, signal) : undefined;
      summaries.push({
        card,
        device: this.options.models.deviceOf(card.id),
        grid: source ? planTileGrid(source.metadata, card, { mppOverride: options.mppOverride, mppEstimate }) : undefined,
      });
    }
    return summaries;
  }

  /**
   * The pixel size estimated from the image, when neither the request nor the file gives one; made once per slide
   * and model (a few trial tiles per candidate scale), whoever asks first. A caller that gives up stops waiting only.
   */
  private async scaleEstimate(source: SlideSource, card: ModelCard, mppOverride: number | undefined, signal?: AbortSignal): Promise<ScaleEstimate | undefined> {
    if (mppOverride || (source.metadata.mppX && source.metadata.mppX > 0)) return undefined;
    // A model that finds glomeruli at several scales cannot pick one: the grid falls back to its training scale.
    if (card.estimatesScale === false) return undefined;
    const key = `${source.metadata.id}|${card.id}`;
    let estimate = this.scaleEstimates.get(key);
    if (!estimate) {
      const lifetime = this.lifetime.signal;
      // Trial tiles are ranked on the slide survey's tissue map (read once per slide for stain and background too).
      const tissue = this.survey(source).then((survey) => survey.tissue, () => undefined);
      estimate = Promise.all([this.options.models.segmenter(card.id, lifetime), tissue]).then(([segmenter, map]) =>
        estimateSlideScale(source, card, segmenter, map, lifetime),
      );
      this.scaleEstimates.set(key, estimate);
      estimate.catch(() => this.scaleEstimates.delete(key));
    }
    return signal ? abortable(estimate, signal) : estimate;
  }

  readViewerTile(slideId: string, level: number, col: number, row: number, signal?: AbortSignal): Promise<ViewerTile> {
    return this.options.slides.open(requireSlideId(slideId), signal).then((source) => readViewerTile(source, level, col, row, signal));
  }

  stats(): ServiceStats {
    return {
      ...this.counters,
      scheduler: this.scheduler.stats(),
      cache: { entries: this.cache.size, bytes: this.cache.bytes },
    };
  }

  async *streamTiles(params: StreamTilesParams, signal: AbortSignal): AsyncIterable<TileOutcome> {
    yield* this.tracked(signal, async function* (this: DomainGlomsegService) {
      if (!params.tiles || params.tiles.length === 0) throw new GlomsegError('INVALID_ARGUMENT', 'no tiles were requested');
      // The same budget as a region to score, checked before the slide is opened.
      assertTileBudget(params.tiles.length, this.limits, 'the tile list', 'request the tiles of a viewport or two per call');
      const context = await this.openContext(params, signal);
      for (const tile of params.tiles) assertTileInGrid(context.grid, tile);
      yield* this.runTiles(await this.readingFor(context, params, signal), params.tiles, signal, { keepProbabilities: true });
    });
  }

  async *scoreSlide(params: ScoreSlideParams, signal: AbortSignal): AsyncIterable<ScoreEvent> {
    yield* this.tracked(signal, async function* (this: DomainGlomsegService) {
      const started = performance.now();
      const context = await this.openContext(params, signal);
      const { grid, source } = context;
      const slideRect = { x: 0, y: 0, width: grid.slideWidth, height: grid.slideHeight };
      let region = slideRect;
      if (params.region && (params.region.width !== 0 || params.region.height !== 0)) {
        const r = params.region;
        if (![r.x, r.y, r.width, r.height].every(Number.isFinite) || r.width <= 0 || r.height <= 0) {
          throw new GlomsegError('INVALID_ARGUMENT', `region ${JSON.stringify(r)} must have a positive width and height`);
        }
        const clipped = intersect(r, slideRect);
        if (!clipped) throw new GlomsegError('INVALID_ARGUMENT', `region ${JSON.stringify(r)} lies outside the ${grid.slideWidth} x ${grid.slideHeight} slide`);
        region = clipped;
      }
      const diceTile = {
        tileWidth: params.diceTileWidth ?? DEFAULT_DICE_TILE.width,
        tileHeight: params.diceTileHeight ?? DEFAULT_DICE_TILE.height,
      };
      // Every bound that depends on the slide is checked here, counted not listed, before any parsing or inference.
      assertTileBudget(countTilesInRect(grid, region), this.limits, `region ${region.width} x ${region.height} at ${grid.mppAssumed} um/px`);
      if (params.annotations) assertDiceGrid(region, diceTile.tileWidth, diceTile.tileHeight, this.limits);
      // Row by row: neighbouring tiles share the slide's own tiles, which the decoded-tile cache then reuses.
      const tiles = tilesInRect(grid, region).sort((a, b) => a.row - b.row || a.col - b.col);
      // Read the ground truth as scoring will (off the serving thread) before any inference, so bad annotations fail
      // fast. Annotations sent empty are refused there, not taken for "none".
      const truth: TruthInput | undefined = params.annotations
        ? {
            content: params.annotations.content,
            format: params.annotations.format,
            name: params.annotations.name ?? source.metadata.name,
            width: grid.slideWidth,
            height: grid.slideHeight,
            classes: params.annotations.classes,
            budget: this.limits,
          }
        : undefined;
      const warnings = truth ? (await this.options.scoring.checkAnnotations(truth, signal)).warnings : [];
      const reading = await this.readingFor(context, params, signal);

      const pieces = [];
      const totalTimings = zeroTimings();
      let done = 0;
      let lastProgress = 0;
      yield { kind: 'progress', progress: { tilesDone: 0, tilesTotal: tiles.length, tilesSkipped: 0, elapsedMs: 0, etaMs: 0 } } as ScoreEvent;
      let skipped = 0;
      // A whole-slide pass keeps no probabilities: it would only push out, tile by tile, what viewers keep for re-cuts
      // (a slide has thousands of tiles, the cache a few hundred), and a batch re-run at another threshold is a batch job.
      for await (const outcome of this.runTiles(reading, tiles, signal, { keepProbabilities: false })) {
        done++;
        if (outcome.skipped) skipped++;
        addTimings(totalTimings, outcome.timings);
        for (const p of outcome.polygons) pieces.push(p);
        const now = performance.now();
        if (now - lastProgress >= PROGRESS_INTERVAL_MS || done === tiles.length) {
          lastProgress = now;
          const elapsedMs = now - started;
          // Skipped tiles cost nothing: the estimate comes from the inferred ones.
          const inferred = done - skipped;
          const etaMs = inferred > 0 ? (elapsedMs / inferred) * (tiles.length - done) : 0;
          yield { kind: 'progress', progress: { tilesDone: done, tilesTotal: tiles.length, tilesSkipped: skipped, elapsedMs, etaMs } } as ScoreEvent;
        }
      }
      throwIfAborted(signal);
      // Final polygons are whole glomeruli: a piece nothing joined to (at the slide's edge) no longer "touches" a tile.
      // Tiles keep small pieces at their edges (maybe slivers of something larger): only joined ones are judged.
      // Those cut by the edge of what was scored are judged alike: on the validation tiles, keeping them all
      // added more false slivers than it found glomeruli (F1 0.82 -> 0.76).
      const minArea = minAreaOnSlide(context.card, grid);
      const polygons = joinAcrossTiles(pieces, { minHoleArea: minArea })
        .filter((p) => p.area >= minArea)
        .map((p) => (p.touches.length ? { ...p, touches: [] } : p))
        .filter((p) => intersect(polygonBBox(p), region) !== undefined);
      const metrics = truth ? await this.options.scoring.scoreDice(truth, polygons, region, diceTile, signal) : undefined;
      yield {
        kind: 'result',
        result: {
          slideId: grid.slideId,
          modelId: grid.modelId,
          region,
          polygons,
          metrics,
          grid,
          elapsedMs: performance.now() - started,
          totalTimings,
          warnings,
        },
      } as ScoreEvent;
    });
  }

  async close(): Promise<void> {
    this.lifetime.abort(new GlomsegError('CANCELLED', 'the service is closing'));
    this.scheduler.close();
    this.cache.clear();
    this.probabilities.clear();
  }

  /** Counts a stream as active while it runs, and as completed, cancelled or failed after. */
  private async *tracked<T>(signal: AbortSignal, body: (this: DomainGlomsegService) => AsyncGenerator<T>): AsyncGenerator<T> {
    this.counters.activeStreams++;
    let outcome: 'completed' | 'cancelled' | 'failed' = 'cancelled';
    try {
      yield* body.call(this);
      outcome = 'completed';
    } catch (error) {
      outcome = signal.aborted ? 'cancelled' : 'failed';
      throw error;
    } finally {
      // A consumer that stops pulling early (client gone) ends here without an error: that is a cancel.
      this.counters.activeStreams--;
      if (outcome === 'completed') this.counters.completedStreams++;
      else if (outcome === 'cancelled') this.counters.cancelledStreams++;
      else this.counters.failedStreams++;
    }
  }

  private async openContext(params: { slideId: string; modelId?: string; mppOverride?: number; threshold?: number }, signal: AbortSignal): Promise<TileContext> {
    const slideId = requireSlideId(params.slideId);
    const card = params.modelId ? this.options.models.get(params.modelId) : this.options.models.defaultModel();
    const threshold = resolveThreshold(params.threshold, card);
    const source = await this.options.slides.open(slideId, signal);
    const mppEstimate = await this.scaleEstimate(source, card, params.mppOverride, signal);
    const grid = planTileGrid(source.metadata, card, { mppOverride: params.mppOverride, mppEstimate });
    const segmenter = await this.options.models.segmenter(card.id, signal);
    return { source, card, grid, threshold, segmenter, device: segmenter.device, skipBackground: false };
  }

  /**
   * How this request reads its tiles: the slide's colour mapping and where its tissue is, from the slide's survey.
   * Called after the request's own bounds are checked, since a first survey reads the slide.
   */
  private async readingFor(context: TileContext, params: TileReadingParams, signal: AbortSignal): Promise<TileContext> {
    const requested = params.stainNormalization ?? 'auto';
    const method = resolveStainMethod(requested, context.card);
    const skipBackground = !params.includeBackground;
    const survey = method || skipBackground ? await this.survey(context.source, signal) : undefined;
    let stain: StainMapping | undefined;
    // 'auto' maps tiles when the slide's stain can be measured and reads them as they are when it cannot (a slide
    // that is nearly all glass); a method asked for by name is refused then, since it cannot be honoured.
    if (method && (survey?.stain || requested !== 'auto')) {
      if (!survey?.stain) {
        throw new GlomsegError(
          'FAILED_PRECONDITION',
          `slide '${context.grid.slideId}' shows too little tissue at low resolution to measure its stain; ask for stain normalisation 'off'`,
        );
      }
      stain = { method, from: survey.stain, to: context.card.stain!.reference! };
    }
    return { ...context, stain, tissue: skipBackground ? survey?.tissue : undefined, skipBackground };
  }

  /**
   * Yields one outcome per distinct tile: cached ones at once, then the rest as they finish, submitted in the
   * order asked with at most `streamWindow` in flight. Leaving early (cancel) abandons what is in flight.
   * `keepProbabilities`: whether computed tiles' probabilities are kept for re-cuts (kept ones are used either way).
   */
  private async *runTiles(context: TileContext, tiles: TileAddress[], signal: AbortSignal, options: { keepProbabilities: boolean }): AsyncGenerator<TileOutcome> {
    const { grid, threshold } = context;
    // Probabilities depend on the pixels the model saw (stain mapping included), not on the threshold.
    const probabilityPrefix = `${grid.slideId}|${grid.modelId}|${grid.scale}|${context.stain?.method ?? 'off'}|`;
    const keyPrefix = `${probabilityPrefix}${threshold}|`;
    const seen = new Set<string>();
    const pending: Array<{ tile: TileAddress; index: number; key: string }> = [];
    const { seedThreshold, requireCore } = context.card;
    const cut: TileCut = { threshold, minArea: minAreaOnSlide(context.card, grid), seedThreshold, requireCore };
    for (let index = 0; index < tiles.length; index++) {
      const tile = tiles[index];
      const key = keyPrefix + tileKey(tile);
      if (seen.has(key)) continue;
      seen.add(key);
      if (context.skipBackground && !tissueIn(context.tissue, tileBounds(grid, tile))) {
        this.counters.tilesSkipped++;
        yield { ...this.outcome(context, tile, index, { bounds: tileBounds(grid, tile), polygons: [], timings: zeroTimings() }, false, 0), skipped: true };
        continue;
      }
      const cached = this.cache.get(key);
      const kept = cached ? undefined : this.probabilities.get(probabilityPrefix + tileKey(tile));
      if (cached) {
        this.counters.tilesFromCache++;
        yield this.outcome(context, tile, index, cached, true, 0);
      } else if (kept) {
        // Same probabilities, another cut: a few milliseconds of tracing instead of the model.
        const started = performance.now();
        const bounds = tileBounds(grid, tile);
        const { keepX, keepY, keepWidth, keepHeight } = tileReadWindow(grid, tile);
        const transform = { originX: bounds.x, originY: bounds.y, scale: grid.scale };
        const polygons = traceTile(kept.map, { keepX, keepY, keepWidth, keepHeight, ...cut, transform });
        const recut: CachedTile = { bounds, polygons, tissueFraction: kept.tissueFraction, timings: { readMs: 0, inferenceMs: 0, postprocessMs: performance.now() - started, queueMs: 0 } };
        this.cache.set(key, recut);
        this.counters.tilesRecut++;
        yield this.outcome(context, tile, index, recut, true, 0);
      } else {
        pending.push({ tile, index, key });
      }
    }
    const local = new AbortController();
    const linked = AbortSignal.any([signal, local.signal]);
    type Settled = { slot: number; result?: { value: PredictedTile; queueMs: number }; error?: unknown };
    const inFlight = new Map<number, Promise<Settled>>();
    let next = 0;
    try {
      while (next < pending.length || inFlight.size > 0) {
        while (next < pending.length && inFlight.size < this.streamWindow) {
          const slot = next++;
          const { tile, key } = pending[slot];
          const run = (jobSignal: AbortSignal) =>
            predictTile({ source: context.source, grid, tile, segmenter: context.segmenter, cut, stain: context.stain, keepProbabilities: options.keepProbabilities }, jobSignal);
          inFlight.set(
            slot,
            this.scheduler.submit(key, run, linked).then(
              (result) => ({ slot, result }),
              (error) => ({ slot, error }),
            ),
          );
        }
        const settled = await Promise.race(inFlight.values());
        inFlight.delete(settled.slot);
        throwIfAborted(signal);
        if (settled.error) throw settled.error;
        const { tile, index, key } = pending[settled.slot];
        const { probabilities, ...value } = settled.result!.value;
        this.cache.set(key, value);
        if (probabilities && options.keepProbabilities) this.probabilities.set(probabilityPrefix + tileKey(tile), { map: probabilities, tissueFraction: value.tissueFraction });
        this.counters.tilesComputed++;
        this.options.onTileComputed?.({ ...value.timings, queueMs: settled.result!.queueMs });
        yield this.outcome(context, tile, index, value, false, settled.result!.queueMs);
      }
    } finally {
      local.abort(new GlomsegError('CANCELLED', 'the stream ended'));
    }
  }

  private outcome(context: TileContext, tile: TileAddress, index: number, tileResult: CachedTile, cached: boolean, queueMs: number): TileOutcome {
    return {
      tile,
      bounds: tileBounds(context.grid, tile),
      polygons: tileResult.polygons,
      cached,
      skipped: false,
      timings: cached ? zeroTimings() : { ...tileResult.timings, queueMs },
      requestIndex: index,
      grid: context.grid,
      tissueFraction: tileResult.tissueFraction,
    };
  }
}

export function createGlomsegService(options: ServiceOptions): DomainGlomsegService {
  return new DomainGlomsegService(options);
}
