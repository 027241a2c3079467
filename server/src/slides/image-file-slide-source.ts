/**
 * SlideSource for plain PNG and JPEG files: one stored level (sharp decodes it), lower levels synthesised by area
 * averaging. A non-tiled image is decoded whole, so images over MAX_IMAGE_PIXELS are refused; small ones keep
 * their decoded pixels in the shared tile cache, larger ones are decoded per request with sharp's extract.
 * Opening reads the header only. Every decode waits its turn in the flat-image decode queue (image-decode-queue.ts),
 * so decodes never take all of libuv's threads from file reads. A whole synthesised level (the survey's view) is
 * one decode shrunk by libvips (readLevelOverview), not a band of the full image per area-averaged strip: a PNG
 * cannot seek, so each band decoded it from the top (a 196-Mpixel PNG about six times over, for one GetSlideInfo).
 */
import { libraryDetail } from './library-detail.js';
import { statSlideFile } from './slide-file.js';
import { basename } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { RegionRequest, RgbImage, SlideMetadata, SlideSource } from '@glomseg/shared/slide-source.js';
import { toRgb } from './jpeg-tile.js';
import { copyBlock, overlap, validateRegion, whiteImage } from './rgb-region.js';
import { planPyramid, readSynthesizedRegion, type LevelRecipe } from './synthesized-levels.js';
import { cachedTile, evictTileCacheOwner, newTileCacheOwner, TILE_CACHE_MAX_BYTES } from './tile-cache.js';
import { flatImageDecodes, type ImageDecodeQueue } from './image-decode-queue.js';

/** Largest PNG/JPEG accepted (it must be decoded whole). */
export const MAX_IMAGE_PIXELS = 200_000_000;

export class ImageFileSlideSource implements SlideSource {
  private readonly cacheOwner: string;
  private closed = false;

  private constructor(
    readonly metadata: SlideMetadata,
    private readonly filePath: string,
    private readonly recipes: LevelRecipe[],
    private readonly decodes: ImageDecodeQueue,
  ) {
    this.cacheOwner = newTileCacheOwner(metadata.id);
  }

  /** `decodes`: the queue its decodes wait in (default: the process's one). */
  static async open(
    filePath: string,
    id: string,
    signal?: AbortSignal,
    decodes: ImageDecodeQueue = flatImageDecodes,
  ): Promise<ImageFileSlideSource> {
    throwIfAborted(signal);
    const info = await statSlideFile(filePath);
    if (!info.isFile())
      throw new GlomsegError('INVALID_ARGUMENT', `not a readable image: ${basename(filePath)} is not a regular file`);
    let header: Metadata;
    try {
      header = await sharp(filePath, { limitInputPixels: false }).metadata();
    } catch (error) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `not a readable PNG or JPEG image: ${basename(filePath)}: ${libraryDetail(error)}`,
        { cause: error },
      );
    }
    throwIfAborted(signal);
    if (header.format !== 'png' && header.format !== 'jpeg') {
      throw new GlomsegError('INVALID_ARGUMENT', `not a PNG or JPEG image: ${basename(filePath)} is ${header.format}`);
    }
    const { width, height } = header;
    if (!width || !height)
      throw new GlomsegError('INVALID_ARGUMENT', `not a readable image: ${basename(filePath)} has no size`);
    if (width * height > MAX_IMAGE_PIXELS) {
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `${basename(filePath)} is a ${width}x${height} ${header.format.toUpperCase()} (${((width * height) / 1e6).toFixed(0)} Mpixel); a non-tiled image must be decoded whole and the limit is ${MAX_IMAGE_PIXELS / 1e6} Mpixel — convert it to a tiled pyramidal TIFF`,
      );
    }
    const plan = planPyramid([{ width, height, tileWidth: 0, tileHeight: 0 }]);
    const metadata: Record<string, string> = {};
    if (header.space) metadata['image.colourSpace'] = header.space;
    if (header.channels) metadata['image.channels'] = String(header.channels);
    if (header.density) metadata['image.density'] = String(header.density);
    const slideMetadata: SlideMetadata = {
      id,
      name: basename(filePath),
      width,
      height,
      levels: plan.levels,
      tileWidth: 0,
      tileHeight: 0,
      mppSource: '',
      format: header.format,
      compression: header.format,
      metadata,
      fileSize: info.size,
      samplesPerPixel: header.channels ?? 3,
    };
    return new ImageFileSlideSource(slideMetadata, filePath, plan.recipes, decodes);
  }

  async readRegion(region: RegionRequest, signal?: AbortSignal): Promise<RgbImage> {
    if (this.closed) throw new GlomsegError('FAILED_PRECONDITION', `slide '${this.metadata.id}' is closed`);
    validateRegion(region, this.metadata.levels.length);
    throwIfAborted(signal);
    const { factor } = this.recipes[region.level];
    if (factor === 1) {
      const out = whiteImage(region.width, region.height);
      const xs = overlap(region.x, region.x + region.width, 0, this.metadata.width);
      const ys = overlap(region.y, region.y + region.height, 0, this.metadata.height);
      if (!xs || !ys) return out;
      const inside = await this.readInside(xs[0], ys[0], xs[1] - xs[0], ys[1] - ys[0], signal);
      copyBlock(inside, 0, 0, out, xs[0] - region.x, ys[0] - region.y, inside.width, inside.height);
      return out;
    }
    return readSynthesizedRegion(
      (_realIndex, x, y, width, height, bandSignal) => this.readInside(x, y, width, height, bandSignal),
      { realIndex: 0, width: this.metadata.width, height: this.metadata.height },
      factor,
      this.metadata.levels[region.level],
      region,
      signal,
    );
  }

  /**
   * A whole level in one pass. A synthesised level of an image too large to keep decoded is one decode shrunk by
   * libvips (its filter, not readRegion's exact area average: for views of the slide, not for model tiles).
   */
  async readLevelOverview(level: number, signal?: AbortSignal): Promise<RgbImage> {
    if (this.closed) throw new GlomsegError('FAILED_PRECONDITION', `slide '${this.metadata.id}' is closed`);
    validateRegion({ level, x: 0, y: 0, width: 1, height: 1 }, this.metadata.levels.length);
    const { width, height } = this.metadata.levels[level];
    if (this.recipes[level].factor === 1 || this.fitsCache())
      return this.readRegion({ level, x: 0, y: 0, width, height }, signal);
    return this.decode({ resize: { width, height } }, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    evictTileCacheOwner(this.cacheOwner);
  }

  /** Small images are decoded once and kept in the tile cache. */
  private fitsCache(): boolean {
    return this.metadata.width * this.metadata.height * 3 <= TILE_CACHE_MAX_BYTES / 4;
  }

  /** A rectangle that lies inside the image. */
  private async readInside(
    x: number,
    y: number,
    width: number,
    height: number,
    signal?: AbortSignal,
  ): Promise<RgbImage> {
    const { width: fullWidth, height: fullHeight } = this.metadata;
    if (this.fitsCache()) {
      // Not tied to this caller's signal: other reads share the cached decode.
      const full = await cachedTile(this.cacheOwner, 'full', () => this.decode({}));
      if (x === 0 && y === 0 && width === fullWidth && height === fullHeight) return full;
      const out: RgbImage = { width, height, data: new Uint8Array(width * height * 3) };
      copyBlock(full, x, y, out, 0, 0, width, height);
      return out;
    }
    return this.decode({ extract: { left: x, top: y, width, height } }, signal);
  }

  /** The whole image, a rectangle of it, or all of it shrunk, decoded in its turn in the flat-image decode queue. */
  private decode(
    how: {
      extract?: { left: number; top: number; width: number; height: number };
      resize?: { width: number; height: number };
    },
    signal?: AbortSignal,
  ): Promise<RgbImage> {
    const { extract, resize } = how;
    const key = `${this.cacheOwner}|${extract ? `${extract.left},${extract.top},${extract.width}x${extract.height}` : resize ? `shrunk ${resize.width}x${resize.height}` : 'full'}`;
    return this.decodes.run(
      key,
      async () => {
        let pipeline = sharp(this.filePath, { limitInputPixels: false })
          .flatten({ background: '#ffffff' })
          .toColourspace('srgb');
        if (extract) pipeline = pipeline.extract(extract);
        if (resize) pipeline = pipeline.resize(resize.width, resize.height, { fit: 'fill' });
        try {
          const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
          return toRgb(
            new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
            info.width,
            info.height,
            info.channels,
          );
        } catch (error) {
          throw new GlomsegError(
            'FAILED_PRECONDITION',
            `cannot decode ${this.metadata.name}: ${libraryDetail(error)}`,
            { cause: error },
          );
        }
      },
      signal,
    );
  }
}
