/**
 * Pyramid levels a file lacks, made on the fly: the plan (which levels to add, each derived from one real level by
 * an integer power-of-two factor) and the read (area-average the real level's pixels, band by band so memory stays
 * bounded however large the request).
 */
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { RegionRequest, RgbImage, SlideLevel } from '@glomseg/shared/slide-source.js';
import { MAX_REGION_SOURCE_PIXELS, overlap, whiteImage } from './rgb-region.js';

/** Synthesised levels go down until the coarsest level fits in this many pixels on its longer edge. */
export const COARSEST_LEVEL_MAX_EDGE = 1024;
/** Source pixels read per band while synthesising (16 Mpixel = 48 MB). */
const BAND_SOURCE_PIXELS = 16 * 1024 * 1024;

export interface RealLevel {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
}

/** How to read one level of the planned pyramid: a real level as stored, or a real level reduced by `factor`. */
export interface LevelRecipe {
  realIndex: number;
  factor: number;
}

export interface PyramidPlan {
  levels: SlideLevel[];
  recipes: LevelRecipe[];
}

/**
 * Adds factor-2 levels below each real level while the next real level is still at least 1.5x further down,
 * and below the last real level until the longer edge is at most COARSEST_LEVEL_MAX_EDGE.
 * `real` must be sorted from largest to smallest.
 */
export function planPyramid(real: RealLevel[]): PyramidPlan {
  const levels: SlideLevel[] = [];
  const recipes: LevelRecipe[] = [];
  const width0 = real[0].width;
  real.forEach((level, realIndex) => {
    levels.push({
      index: levels.length,
      width: level.width,
      height: level.height,
      downsample: width0 / level.width,
      tileWidth: level.tileWidth,
      tileHeight: level.tileHeight,
      synthesized: false,
    });
    recipes.push({ realIndex, factor: 1 });
    const next = real[realIndex + 1];
    const nextDownsample = next ? width0 / next.width : Infinity;
    for (let factor = 2; factor <= 1 << 16; factor *= 2) {
      const previous = levels[levels.length - 1];
      if (!next && Math.max(previous.width, previous.height) <= COARSEST_LEVEL_MAX_EDGE) break;
      const width = Math.ceil(level.width / factor);
      const height = Math.ceil(level.height / factor);
      const downsample = width0 / width;
      if (next && downsample * 1.5 > nextDownsample) break;
      levels.push({ index: levels.length, width, height, downsample, tileWidth: 0, tileHeight: 0, synthesized: true });
      recipes.push({ realIndex, factor });
    }
  });
  return { levels, recipes };
}

/** Reads a region of a real level, clipped to it (the caller never asks outside). */
export type ReadRealRegion = (
  realIndex: number,
  x: number,
  y: number,
  width: number,
  height: number,
  signal?: AbortSignal,
) => Promise<RgbImage>;

/**
 * A region of any level of a planned pyramid: a stored level's own pixels (`readReal` reads white outside it), or a
 * synthesised level's means over the stored level `real` that its recipe names.
 */
export function readPlannedRegion(
  readReal: ReadRealRegion,
  recipe: LevelRecipe,
  real: { width: number; height: number },
  target: { width: number; height: number },
  region: RegionRequest,
  signal?: AbortSignal,
): Promise<RgbImage> {
  const { realIndex, factor } = recipe;
  if (factor === 1) return readReal(realIndex, region.x, region.y, region.width, region.height, signal);
  return readSynthesizedRegion(
    readReal,
    { realIndex, width: real.width, height: real.height },
    factor,
    target,
    region,
    signal,
  );
}

/**
 * A region of a synthesised level: each output pixel is the mean of the factor x factor block of the real level
 * it covers (only the part inside the level counts); outside the synthesised level reads white.
 */
export async function readSynthesizedRegion(
  readReal: ReadRealRegion,
  real: { realIndex: number; width: number; height: number },
  factor: number,
  target: { width: number; height: number },
  region: RegionRequest,
  signal?: AbortSignal,
): Promise<RgbImage> {
  const out = whiteImage(region.width, region.height);
  const cols = overlap(region.x, region.x + region.width, 0, target.width);
  const rows = overlap(region.y, region.y + region.height, 0, target.height);
  if (!cols || !rows) return out;
  const [ox0, ox1] = cols;
  const [oy0, oy1] = rows;
  const sx0 = ox0 * factor;
  const sx1 = Math.min(real.width, ox1 * factor);
  const sourcePixels = (sx1 - sx0) * (Math.min(real.height, oy1 * factor) - oy0 * factor);
  if (sourcePixels > MAX_REGION_SOURCE_PIXELS) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `reading this ${region.width}x${region.height} region of synthesised level ${region.level} means reducing ${(sourcePixels / 1e6).toFixed(0)} Mpixel of a finer level (limit ${MAX_REGION_SOURCE_PIXELS / (1024 * 1024)} Mpixel): read a smaller region`,
    );
  }
  const outWidth = ox1 - ox0;
  const sourceWidth = sx1 - sx0;
  const bandRows = Math.max(1, Math.floor(BAND_SOURCE_PIXELS / (sourceWidth * factor)));
  const sums = new Uint32Array(outWidth * 3);
  for (let bandStart = oy0; bandStart < oy1; bandStart += bandRows) {
    throwIfAborted(signal);
    const bandEnd = Math.min(oy1, bandStart + bandRows);
    const sy0 = bandStart * factor;
    const sy1 = Math.min(real.height, bandEnd * factor);
    const source = await readReal(real.realIndex, sx0, sy0, sourceWidth, sy1 - sy0, signal);
    for (let oy = bandStart; oy < bandEnd; oy++) {
      sums.fill(0);
      const rowStart = oy * factor - sy0;
      const rowEnd = Math.min(sy1 - sy0, rowStart + factor);
      const pixels = source.data;
      for (let sy = rowStart; sy < rowEnd; sy++) {
        let s = sy * sourceWidth * 3;
        for (let ox = 0; ox < outWidth; ox++) {
          const end = Math.min(sourceWidth, (ox + 1) * factor);
          let r = 0;
          let g = 0;
          let b = 0;
          for (let sx = ox * factor; sx < end; sx++, s += 3) {
            r += pixels[s];
            g += pixels[s + 1];
            b += pixels[s + 2];
          }
          sums[ox * 3] += r;
          sums[ox * 3 + 1] += g;
          sums[ox * 3 + 2] += b;
        }
      }
      const rowCount = rowEnd - rowStart;
      let d = ((oy - region.y) * region.width + (ox0 - region.x)) * 3;
      for (let ox = 0; ox < outWidth; ox++, d += 3) {
        const colCount = Math.min(factor, sourceWidth - ox * factor);
        const count = colCount * rowCount;
        const half = count >> 1;
        out.data[d] = Math.floor((sums[ox * 3] + half) / count);
        out.data[d + 1] = Math.floor((sums[ox * 3 + 1] + half) / count);
        out.data[d + 2] = Math.floor((sums[ox * 3 + 2] + half) / count);
      }
    }
  }
  return out;
}
