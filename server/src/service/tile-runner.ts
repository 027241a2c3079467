/**
 * The tile runner: one outcome per distinct tile of a request. Tiles of bare glass, cached results and tiles whose
 * probabilities are kept (cut again at a new threshold) are answered at once; the rest go to the model through the
 * scheduler all streams share, at most `streamWindow` in flight per stream, and are answered as they finish.
 */
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { TileOutcome, Timings } from '@glomseg/shared/glomseg-service.js';
import { tileBounds, tileKey, tileReadWindow, type TileAddress } from '@glomseg/shared/tile-grid.js';
import { tissueAreaIn, tissueIn } from '@glomseg/shared/tissue-mask.js';
import { traceTile } from '@glomseg/shared/trace-tile.js';
import { ProbabilityCache, type KeptTile } from './probability-cache.js';
import { probabilityPng } from './probability-png.js';
import { ResultCache, type CachedTile } from './result-cache.js';
import type { TileContext } from './tile-context.js';
import { predictTile, type PredictedTile } from './tile-pipeline.js';
import { TileScheduler, type SchedulerStats } from './tile-scheduler.js';

export interface TileRunnerOptions {
  /** Tiles processed at once (reads overlap inference); default 3. */
  concurrency?: number;
  maxQueuedTiles?: number;
  /** Tiles one stream keeps in flight; bounds memory and keeps the queue fair. Default concurrency + 1. */
  streamWindow?: number;
  cacheBytes?: number;
  /** Bytes of kept tile probabilities, to re-cut tiles at a new threshold without the model (default 128 MB). */
  probabilityCacheBytes?: number;
  /** Told each computed tile's stage timings (metrics). */
  onTileComputed?: (timings: Timings) => void;
}

export interface TileCounts {
  tilesFromCache: number;
  tilesComputed: number;
  /** Tiles of bare glass, not inferred. */
  tilesSkipped: number;
  /** Tiles cut again at a new threshold from cached probabilities, without running the model. */
  tilesRecut: number;
}

/** What a request wants kept and sent besides each tile's polygons. */
export interface TileRunOptions {
  /** Keep computed tiles' probabilities for re-cuts (kept ones are used either way). */
  keepProbabilities: boolean;
  /** Send each inferred tile's probabilities as a heatmap PNG (TileOutcome.probabilityPng). */
  includeProbabilities?: boolean;
}

/** A tile left for the model: where it was asked for, and its result's cache key. */
interface PendingTile {
  tile: TileAddress;
  index: number;
  key: string;
}

/**
 * Cache keys of a request's tiles. Probabilities depend on the pixels the model saw (stain mapping included, and the
 * tile size: ScoreSlide's tiles are not StreamTiles'), not on the cut.
 */
function keysOf(context: TileContext): { probabilities: string; results: string } {
  const { grid, stain, cut } = context;
  const probabilities = `${grid.slideId}|${grid.modelId}|${grid.scale}|${grid.tileSize}|${stain?.method ?? 'off'}|`;
  return { probabilities, results: `${probabilities}${cut.threshold}|` };
}

export function zeroTimings(): Timings {
  return { readMs: 0, inferenceMs: 0, postprocessMs: 0, queueMs: 0 };
}

function outcomeOf(
  context: TileContext,
  tile: TileAddress,
  index: number,
  result: CachedTile,
  cached: boolean,
  includeProbabilities: boolean,
  queueMs = 0,
): TileOutcome {
  const bounds = tileBounds(context.grid, tile);
  return {
    tile,
    bounds,
    polygons: result.polygons,
    cached,
    skipped: false,
    timings: cached ? zeroTimings() : { ...result.timings, queueMs },
    requestIndex: index,
    grid: context.grid,
    tissueFraction: result.tissueFraction,
    tissueArea: context.tissueMap ? tissueAreaIn(context.tissueMap, bounds) : undefined,
    probabilityPng: includeProbabilities ? result.probabilityPng : undefined,
  };
}

/** The heatmap PNG of a tile's kept probabilities (the part of the window the tile keeps). */
function heatmapOf(context: TileContext, tile: TileAddress, kept: KeptTile): Uint8Array {
  return probabilityPng(kept.map, tileReadWindow(context.grid, tile));
}

export class TileRunner {
  private readonly scheduler: TileScheduler<PredictedTile>;
  private readonly results: ResultCache;
  private readonly probabilities: ProbabilityCache;
  private readonly streamWindow: number;
  private readonly counts: TileCounts = { tilesFromCache: 0, tilesComputed: 0, tilesSkipped: 0, tilesRecut: 0 };

  constructor(private readonly options: TileRunnerOptions = {}) {
    const concurrency = options.concurrency ?? 3;
    this.scheduler = new TileScheduler<PredictedTile>({ concurrency, maxQueued: options.maxQueuedTiles ?? 2048 });
    this.results = new ResultCache(options.cacheBytes ?? 64 * 1024 * 1024);
    // A tile keeps its whole window (384 x 384 floats for the default model, 576 KiB): 128 MB keep about 220 tiles,
    // a few screens of view.
    this.probabilities = new ProbabilityCache(options.probabilityCacheBytes ?? 128 * 1024 * 1024);
    this.streamWindow = options.streamWindow ?? concurrency + 1;
  }

  /**
   * Yields one outcome per distinct tile: those answered at once first, then the rest as they finish, submitted in
   * the order asked. Leaving early (cancel) abandons what is in flight. A tile whose heatmap is asked for but whose
   * probabilities are no longer kept goes to the model again.
   */
  async *run(
    context: TileContext,
    tiles: TileAddress[],
    signal: AbortSignal,
    options: TileRunOptions,
  ): AsyncGenerator<TileOutcome> {
    const pending: PendingTile[] = [];
    const include = options.includeProbabilities ?? false;
    yield* this.answerAtOnce(context, tiles, pending, include);
    yield* this.compute(context, pending, signal, {
      ...options,
      keepProbabilities: options.keepProbabilities || include,
    });
  }

  stats(): TileCounts & { scheduler: SchedulerStats; cache: { entries: number; bytes: number } } {
    return {
      ...this.counts,
      scheduler: this.scheduler.stats(),
      cache: { entries: this.results.size, bytes: this.results.bytes },
    };
  }

  close(): void {
    this.scheduler.close();
    this.results.clear();
    this.probabilities.clear();
  }

  /** Bare glass, cached results and re-cuts, in the order asked; what is left for the model goes into `pending`. */
  private *answerAtOnce(
    context: TileContext,
    tiles: TileAddress[],
    pending: PendingTile[],
    include: boolean,
  ): Generator<TileOutcome> {
    const keys = keysOf(context);
    const seen = new Set<string>();
    for (let index = 0; index < tiles.length; index++) {
      const tile = tiles[index];
      const key = keys.results + tileKey(tile);
      if (seen.has(key)) continue;
      seen.add(key);
      const bounds = tileBounds(context.grid, tile);
      if (context.skipBackground && !tissueIn(context.tissue, bounds)) {
        this.counts.tilesSkipped++;
        yield {
          ...outcomeOf(context, tile, index, { bounds, polygons: [], timings: zeroTimings() }, false, false),
          skipped: true,
        };
        continue;
      }
      const cached = this.results.get(key);
      if (cached && (!include || cached.probabilityPng)) {
        this.counts.tilesFromCache++;
        yield outcomeOf(context, tile, index, cached, true, include);
        continue;
      }
      const kept = this.probabilities.get(keys.probabilities + tileKey(tile));
      if (cached && kept) {
        // Its polygons are cached; only its heatmap, asked for now, is made (and cached with them).
        const withHeatmap = { ...cached, probabilityPng: heatmapOf(context, tile, kept) };
        this.results.set(key, withHeatmap);
        this.counts.tilesFromCache++;
        yield outcomeOf(context, tile, index, withHeatmap, true, include);
        continue;
      }
      const recut = kept && this.recut(context, tile, kept, include);
      if (recut) {
        this.results.set(key, recut);
        yield outcomeOf(context, tile, index, recut, true, include);
      } else pending.push({ tile, index, key });
    }
  }

  /** Same probabilities, another cut: a few milliseconds of tracing instead of the model. */
  private recut(context: TileContext, tile: TileAddress, kept: KeptTile, include: boolean): CachedTile {
    const started = performance.now();
    const { grid } = context;
    const bounds = tileBounds(grid, tile);
    const { keepX, keepY, keepWidth, keepHeight } = tileReadWindow(grid, tile);
    const transform = { originX: bounds.x, originY: bounds.y, scale: grid.scale };
    const polygons = traceTile(kept.map, { keepX, keepY, keepWidth, keepHeight, ...context.cut, transform });
    this.counts.tilesRecut++;
    return {
      bounds,
      polygons,
      tissueFraction: kept.tissueFraction,
      timings: { ...zeroTimings(), postprocessMs: performance.now() - started },
      probabilityPng: include ? heatmapOf(context, tile, kept) : undefined,
    };
  }

  /** The model's tiles, at most `streamWindow` in flight, each yielded (and cached) as it finishes. */
  private async *compute(
    context: TileContext,
    pending: PendingTile[],
    signal: AbortSignal,
    options: TileRunOptions,
  ): AsyncGenerator<TileOutcome> {
    const { keepProbabilities } = options;
    const local = new AbortController();
    const linked = AbortSignal.any([signal, local.signal]);
    type Settled = { slot: number; result?: { value: PredictedTile; queueMs: number }; error?: unknown };
    const inFlight = new Map<number, Promise<Settled>>();
    const { source, grid, segmenter, cut, stain } = context;
    let next = 0;
    try {
      while (next < pending.length || inFlight.size > 0) {
        while (next < pending.length && inFlight.size < this.streamWindow) {
          const slot = next++;
          const { tile, key } = pending[slot];
          const run = (jobSignal: AbortSignal) =>
            predictTile({ source, grid, tile, segmenter, cut, stain, keepProbabilities }, jobSignal);
          const settled = this.scheduler.submit(key, run, linked).then(
            (result) => ({ slot, result }),
            (error: unknown) => ({ slot, error }),
          );
          inFlight.set(slot, settled);
        }
        const settled = await Promise.race(inFlight.values());
        inFlight.delete(settled.slot);
        throwIfAborted(signal);
        if (settled.error) throw settled.error;
        yield this.finished(context, pending[settled.slot], settled.result!, options);
      }
    } finally {
      local.abort(new GlomsegError('CANCELLED', 'the stream ended'));
    }
  }

  private finished(
    context: TileContext,
    { tile, index, key }: PendingTile,
    result: { value: PredictedTile; queueMs: number },
    { keepProbabilities, includeProbabilities = false }: TileRunOptions,
  ): TileOutcome {
    const { probabilities, ...computed } = result.value;
    const kept = probabilities && { map: probabilities, tissueFraction: computed.tissueFraction };
    const value: CachedTile = {
      ...computed,
      probabilityPng: kept && includeProbabilities ? heatmapOf(context, tile, kept) : undefined,
    };
    this.results.set(key, value);
    if (kept && keepProbabilities) this.probabilities.set(keysOf(context).probabilities + tileKey(tile), kept);
    this.counts.tilesComputed++;
    this.options.onTileComputed?.({ ...value.timings, queueMs: result.queueMs });
    return outcomeOf(context, tile, index, value, false, includeProbabilities, result.queueMs);
  }
}
