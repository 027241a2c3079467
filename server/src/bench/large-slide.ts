/**
 * A large pyramidal BigTIFF for benchmarks, made of real pixels: the source region (level 0) repeated by mirror
 * tiling until the requested size, so every seam is continuous (each copy is the flip of its neighbour), or laid
 * on white glass as real slides mostly are (`surround: 'glass'`), then
 * written by libvips as a tiled JPEG pyramid. The source is held once in memory as raw RGB; libvips streams the
 * mirrored image through its tile writer, so memory stays bounded whatever the output size.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';

export interface LargeSlideOptions {
  /** Source image; its first page (level 0) is read. */
  source: string;
  out: string;
  width: number;
  /** Default: width. */
  height?: number;
  /** Stored tile edge (default 256). */
  tileSize?: 256 | 512;
  /** JPEG quality (default 85). */
  quality?: number;
  /** Level-0 pixel size written to XResolution/YResolution (default 0.5 um/px, the HuBMAP scans' scale). */
  mpp?: number;
  /**
   * What fills the slide past the source: its mirror image (default: tissue everywhere), white glass, or
   * 'half-glass': mirror-tiled tissue over the left half of the columns and white glass over the right half.
   */
  surround?: 'mirror' | 'glass' | 'half-glass';
  signal?: AbortSignal;
}

export interface LargeSlideReport {
  path: string;
  source: string;
  sourceWidth: number;
  sourceHeight: number;
  width: number;
  height: number;
  tileSize: number;
  quality: number;
  mpp: number;
  fileBytes: number;
  seconds: number;
}

/** Builds the slide into `out` (written to `out.partial` first, so a half-written file never looks done). */
export async function makeLargeSlide(options: LargeSlideOptions): Promise<LargeSlideReport> {
  const { source, out, signal } = options;
  const width = options.width;
  const height = options.height ?? width;
  const tileSize = options.tileSize ?? 256;
  const quality = options.quality ?? 85;
  const mpp = options.mpp ?? 0.5;
  checkSlideOptions({ width, height, tileSize, quality, mpp });
  throwIfAborted(signal);

  const started = performance.now();
  // Decode the source once: 6400 x 4800 RGB is 92 MB, and libvips then reads it at memory speed.
  const { data, info } = await sharp(source, { limitInputPixels: false })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((error: Error) => {
      throw new GlomsegError('INVALID_ARGUMENT', `cannot read the source image ${source}: ${error.message}`, {
        cause: error,
      });
    });
  throwIfAborted(signal);

  const raw = { raw: { width: info.width, height: info.height, channels: 3 as const }, limitInputPixels: false };
  const tiff = { tileSize, quality, mpp };
  if (options.surround === 'half-glass') {
    // libvips extends once per pipeline: the tissue half goes through a tiled file of its own, then onto glass.
    const tissueWidth = Math.ceil(width / 2);
    const half = `${out}.tissue.tif`;
    try {
      await writeTiff(extended(sharp(data, raw), info, tissueWidth, height, 'mirror'), half, {
        ...tiff,
        quality: 95,
        pyramid: false,
      });
      throwIfAborted(signal);
      const onGlass = sharp(half, { limitInputPixels: false }).removeAlpha();
      await writeTiff(extended(onGlass, { width: tissueWidth, height }, width, height, 'glass'), out, tiff, signal);
    } finally {
      await rm(half, { force: true });
    }
  } else {
    const pipeline = extended(sharp(data, raw), info, width, height, options.surround ?? 'mirror');
    await writeTiff(pipeline, out, tiff, signal);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    path: path.resolve(out),
    source: path.resolve(source),
    sourceWidth: info.width,
    sourceHeight: info.height,
    width,
    height,
    tileSize,
    quality,
    mpp,
    fileBytes: (await stat(out)).size,
    seconds,
  };
}

/** The source cut to at most width x height, then extended to it with its mirror image or with white glass. */
function extended(
  pipeline: Sharp,
  source: { width: number; height: number },
  width: number,
  height: number,
  surround: 'mirror' | 'glass',
): Sharp {
  // sharp crops (a pre-resize extract) before it extends, so: keep at most the wanted size, then extend out to it.
  const keepWidth = Math.min(width, source.width);
  const keepHeight = Math.min(height, source.height);
  if (keepWidth < source.width || keepHeight < source.height)
    pipeline = pipeline.extract({ left: 0, top: 0, width: keepWidth, height: keepHeight });
  if (width === keepWidth && height === keepHeight) return pipeline;
  const by = { right: width - keepWidth, bottom: height - keepHeight };
  return pipeline.extend(
    surround === 'glass' ? { ...by, background: { r: 255, g: 255, b: 255 } } : { ...by, extendWith: 'mirror' },
  );
}

/** A tiled JPEG BigTIFF pyramid at `out` (written to `out.partial` first, so a half-written file never looks done). */
async function writeTiff(
  pipeline: Sharp,
  out: string,
  { tileSize, quality, mpp, pyramid = true }: { tileSize: number; quality: number; mpp: number; pyramid?: boolean },
  signal?: AbortSignal,
): Promise<void> {
  await mkdir(path.dirname(path.resolve(out)), { recursive: true });
  const partial = `${out}.partial`;
  try {
    await pipeline
      .tiff({
        bigtiff: true,
        tile: true,
        tileWidth: tileSize,
        tileHeight: tileSize,
        pyramid,
        compression: 'jpeg',
        quality,
        // libvips takes pixels per millimetre; written as pixels per centimetre (ResolutionUnit 3).
        xres: 1000 / mpp,
        yres: 1000 / mpp,
        resolutionUnit: 'cm',
      })
      .toFile(partial);
    throwIfAborted(signal);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

function checkSlideOptions({
  width,
  height,
  tileSize,
  quality,
  mpp,
}: {
  width: number;
  height: number;
  tileSize: number;
  quality: number;
  mpp: number;
}): void {
  for (const [name, value] of Object.entries({ width, height })) {
    if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `${name} ${value} must be a whole number of pixels between 1 and 1,000,000`,
      );
    }
  }
  if (tileSize !== 256 && tileSize !== 512)
    throw new GlomsegError('INVALID_ARGUMENT', `tile size ${tileSize} must be 256 or 512`);
  if (!(quality >= 1 && quality <= 100))
    throw new GlomsegError('INVALID_ARGUMENT', `JPEG quality ${quality} must lie between 1 and 100`);
  if (!(mpp > 0 && mpp < 100)) throw new GlomsegError('INVALID_ARGUMENT', `pixel size ${mpp} um/px is not plausible`);
}
