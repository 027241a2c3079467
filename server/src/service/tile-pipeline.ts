/** One model tile, start to finish: read with its context margin, predict, keep the centre, trace polygons. */
import type { Segmenter } from '@glomseg/shared/segmenter.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { tileBounds, tileReadWindow, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { cropProbability } from '@glomseg/shared/preprocess.js';
import { maskToPolygons } from '@glomseg/shared/mask-to-polygons.js';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import { resizeRgb } from './resample.js';
import type { CachedTile } from './result-cache.js';

export interface TileJob {
  source: SlideSource;
  grid: TileGrid;
  tile: TileAddress;
  segmenter: Segmenter;
  threshold: number;
  minArea: number;
}

export async function predictTile(job: TileJob, signal: AbortSignal): Promise<CachedTile> {
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

  const inferenceStart = performance.now();
  const probability = await job.segmenter.predict(image, signal);
  const inferenceMs = performance.now() - inferenceStart;

  const postStart = performance.now();
  const kept = cropProbability(probability, window.keepX, window.keepY, window.keepWidth, window.keepHeight);
  const polygons = maskToPolygons(kept, job.threshold, { originX: bounds.x, originY: bounds.y, scale: grid.scale }, { minArea: job.minArea });
  const postprocessMs = performance.now() - postStart;

  return { bounds, polygons, timings: { readMs, inferenceMs, postprocessMs, queueMs: 0 } };
}
