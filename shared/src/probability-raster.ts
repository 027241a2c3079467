/**
 * A tile's probabilities as a heatmap raster: the kept part of the model's map (no context margin), averaged down in
 * whole blocks until its longer edge fits `maxEdge`, one byte a pixel (round(255 x p)). What a viewer draws over the
 * tile's bounds; small enough to send with every tile.
 */
import { probabilityOfLogit } from './map-values.js';
import type { ProbabilityMap } from './segmenter.js';

/** Longest edge of a heatmap raster: a 256-pixel model tile is sent at half its pixels. */
export const PROBABILITY_RASTER_MAX_EDGE = 128;

export interface ProbabilityRaster {
  width: number;
  height: number;
  /** Row-major, one byte a pixel: round(255 x probability). */
  levels: Uint8Array;
}

export interface KeptRect {
  keepX: number;
  keepY: number;
  keepWidth: number;
  keepHeight: number;
}

/** The kept rectangle of `map` as a raster; a block at the rectangle's right or bottom edge averages what it has. */
export function probabilityRaster(
  map: ProbabilityMap,
  keep: KeptRect,
  maxEdge = PROBABILITY_RASTER_MAX_EDGE,
): ProbabilityRaster {
  const { keepX, keepY, keepWidth, keepHeight } = keep;
  const block = Math.max(1, Math.ceil(Math.max(keepWidth, keepHeight) / maxEdge));
  const width = Math.ceil(keepWidth / block);
  const height = Math.ceil(keepHeight / block);
  const sums = new Float64Array(width * height);
  const counts = new Uint32Array(width * height);
  const read = map.logits ? probabilityOfLogit : (value: number) => value;
  for (let y = 0; y < keepHeight; y++) {
    const row = (keepY + y) * map.width + keepX;
    const out = Math.floor(y / block) * width;
    for (let x = 0; x < keepWidth; x++) {
      const cell = out + Math.floor(x / block);
      sums[cell] += read(map.data[row + x]);
      counts[cell]++;
    }
  }
  const levels = new Uint8Array(width * height);
  for (let i = 0; i < levels.length; i++) {
    const p = sums[i] / counts[i];
    levels[i] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(p) ? p : 0)));
  }
  return { width, height, levels };
}
