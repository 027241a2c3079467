/** One model tile, start to finish: read with its context margin, resize to model pixels, predict and trace polygons. */
import type { ProbabilityMap, Segmenter, TileCut } from '@glomseg/shared/segmenter.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { tileBounds, tileReadWindow, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import type { StainMapping } from '@glomseg/shared/stain-normalization.js';
import { resizeRgb } from './resample.js';
import type { CachedTile } from './result-cache.js';

export interface TileJob {
  source: SlideSource;
  grid: TileGrid;
  tile: TileAddress;
  segmenter: Segmenter;
  /** The threshold and the card's post-processing (minimum area on this slide, seed threshold, core rule). */
  cut: TileCut;
  /** The slide's colour mapping to the model's reference, applied where the model runs. */
  stain?: StainMapping;
  /** Whether the tile's probabilities are wanted back (to keep for re-cuts); default true. */
  keepProbabilities?: boolean;
}

/** A finished tile, with its probabilities (margin included) when the segmenter returned them. */
export type PredictedTile = CachedTile & { probabilities?: ProbabilityMap };

export async function predictTile(job: TileJob, signal: AbortSignal): Promise<PredictedTile> {
  const { grid, tile } = job;
  const bounds = tileBounds(grid, tile);
  const window = tileReadWindow(grid, tile);

  const readStart = performance.now();
  const region = await job.source.readRegion(
    { level: window.level, x: window.x, y: window.y, width: window.width, height: window.height },
    signal,
  );
  const image = await resizeRgb(region, window.modelWidth, window.modelHeight);
  throwIfAborted(signal);
  const readMs = performance.now() - readStart;

  // Inference and tracing both run in the segmenter's worker: nothing heavy on the thread that serves gRPC.
  const traced = await job.segmenter.predictPolygons(
    image,
    {
      keepX: window.keepX,
      keepY: window.keepY,
      keepWidth: window.keepWidth,
      keepHeight: window.keepHeight,
      ...job.cut,
      transform: { originX: bounds.x, originY: bounds.y, scale: grid.scale },
    },
    signal,
    { stain: job.stain },
    { probabilities: job.keepProbabilities ?? true },
  );
  const { polygons, inferenceMs, postprocessMs, probabilities, tissueFraction } = traced;

  return {
    bounds,
    polygons,
    probabilities,
    tissueFraction,
    timings: { readMs, inferenceMs, postprocessMs, queueMs: 0 },
  };
}
