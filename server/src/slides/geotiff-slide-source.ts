/**
 * SlideSource for TIFF-based slides (tiled pyramidal TIFF, BigTIFF, OME-TIFF, Aperio SVS), read tile by tile with
 * geotiff. JPEG tiles are decoded by sharp (libjpeg-turbo) from the raw tile bytes with the JPEGTables spliced in;
 * other compressions go through the decoders registered with geotiff (tiff-codecs/: geotiff's own, JPEG 2000,
 * WebP), in geotiff's worker pool. Levels the file lacks are synthesised by area averaging. The configured bounds
 * (ReaderLimits) cap what one read may decode.
 *
 * Compressions no codec decodes do not fail open(): the metadata names them so a slide listing can show the
 * slide, and readRegion throws FAILED_PRECONDITION with a message that says why.
 */
import { basename } from 'node:path';
import type { Pool } from 'geotiff';
import { GlomsegError, isGlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { RegionRequest, RgbImage, SlideMetadata, SlideSource } from '@glomseg/shared/slide-source.js';
import { libraryDetail } from './library-detail.js';
import { statSlideFile } from './slide-file.js';
import { acquireDecoderPool, releaseDecoderPool } from './decoder-pool.js';
import { DEFAULT_READER_LIMITS, type ReaderLimits } from './slide-reader.js';
import { TiffFileSource, type TiffBytes } from './tiff-file-source.js';
import { RemoteTiffSource } from './remote-tiff-source.js';
import { cachedTile, evictTileCacheOwner, newTileCacheOwner } from './tile-cache.js';
import { toStandaloneJpeg } from './jpeg-tile.js';
import { copyBlock, overlap, validateRegion, whiteImage } from './rgb-region.js';
import { planPyramid, readPlannedRegion, type LevelRecipe, type ReadRealRegion } from './synthesized-levels.js';
import { notReadable, readTiffPyramid, type StoredLevel } from './tiff-pyramid.js';
import { canPassJpegThrough, decodeBlock, readBlockBytes, type BlockSource } from './tiff-block.js';
import { describeTiffSlide } from './tiff-slide-metadata.js';

/** Tiles decoded at once per region read (sharp decodes on libuv's thread pool). */
const DECODE_CONCURRENCY = 4;

/** File name endings of TIFF-family slides (`.ome.tif(f)` is covered by `.tif(f)`). */
export const TIFF_EXTENSIONS = ['.tif', '.tiff', '.svs', '.btf'] as const;

/** Whether the bytes start a TIFF or BigTIFF (II*\0, MM\0*, II+\0, MM\0+). */
export function isTiffHeader(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const version =
    head[0] === 0x49 && head[1] === 0x49
      ? head[2] | (head[3] << 8)
      : head[0] === 0x4d && head[1] === 0x4d
        ? (head[2] << 8) | head[3]
        : 0;
  return version === 42 || version === 43;
}

export class GeoTiffSlideSource implements SlideSource {
  private readonly cacheOwner: string;
  private readonly blocks: BlockSource;
  private closed = false;
  /**
   * geotiff's decoder workers, taken on the first block that needs geotiff's own decoders: JPEG slides decoded by
   * sharp never start them (two idle worker threads cost the process tens of MB).
   */
  private pool?: Pool;

  private constructor(
    readonly metadata: SlideMetadata,
    private readonly file: TiffBytes,
    private readonly stored: StoredLevel[],
    private readonly recipes: LevelRecipe[],
    private readonly limits: ReaderLimits,
  ) {
    this.cacheOwner = newTileCacheOwner(metadata.id);
    this.blocks = { name: metadata.name, file, limits, decoderPool: () => this.decoderPool() };
  }

  static async open(
    filePath: string,
    id: string,
    signal?: AbortSignal,
    limits: ReaderLimits = DEFAULT_READER_LIMITS,
  ): Promise<GeoTiffSlideSource> {
    throwIfAborted(signal);
    const info = await statSlideFile(filePath);
    if (!info.isFile()) throw notReadable(filePath, 'it is not a regular file');
    if (info.size === 0) throw notReadable(filePath, 'the file is empty');
    const file = await TiffFileSource.open(filePath);
    try {
      return await GeoTiffSlideSource.openFrom(file, filePath, id, limits, signal);
    } catch (error) {
      await file.close().catch(() => undefined);
      if (isGlomsegError(error)) throw error;
      throw notReadable(filePath, libraryDetail(error), error);
    }
  }

  /** A TIFF slide behind an (allowed, already checked) URL, read with range requests; `label` names it in messages. */
  static async openUrl(
    url: string,
    label: string,
    id: string,
    signal?: AbortSignal,
    limits: ReaderLimits = DEFAULT_READER_LIMITS,
  ): Promise<GeoTiffSlideSource> {
    throwIfAborted(signal);
    const file = await RemoteTiffSource.open(url, label, signal);
    try {
      return await GeoTiffSlideSource.openFrom(file, label, id, limits, signal);
    } catch (error) {
      if (isGlomsegError(error)) throw error;
      throw notReadable(label, error instanceof Error ? error.message : String(error), error);
    }
  }

  private static async openFrom(
    file: TiffBytes,
    filePath: string,
    id: string,
    limits: ReaderLimits,
    signal?: AbortSignal,
  ): Promise<GeoTiffSlideSource> {
    const pyramid = await readTiffPyramid(file, filePath, signal);
    const plan = planPyramid(
      pyramid.stored.map((level) => ({
        width: level.width,
        height: level.height,
        tileWidth: level.tiled ? level.blockWidth : 0,
        tileHeight: level.tiled ? level.blockHeight : 0,
      })),
    );
    const metadata = await describeTiffSlide(pyramid, plan.levels, {
      id,
      name: basename(filePath),
      fileSize: file.size,
    });
    return new GeoTiffSlideSource(metadata, file, pyramid.stored, plan.recipes, limits);
  }

  async readRegion(region: RegionRequest, signal?: AbortSignal): Promise<RgbImage> {
    this.assertOpen();
    validateRegion(region, this.metadata.levels.length);
    throwIfAborted(signal);
    const recipe = this.recipes[region.level];
    const real = this.stored[recipe.realIndex];
    if (real.unreadable) throw new GlomsegError('FAILED_PRECONDITION', `${this.metadata.name}: ${real.unreadable}`);
    return readPlannedRegion(this.readStored, recipe, real, this.metadata.levels[region.level], region, signal);
  }

  async readRawJpegTile(
    level: number,
    col: number,
    row: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array | undefined> {
    this.assertOpen();
    throwIfAborted(signal);
    const recipe = this.recipes[level];
    if (!recipe)
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `level ${level} does not exist: the slide has levels 0 to ${this.recipes.length - 1}`,
      );
    const stored = this.stored[recipe.realIndex];
    if (recipe.factor !== 1 || !stored.tiled || !canPassJpegThrough(stored)) return undefined;
    const cols = Math.ceil(stored.width / stored.blockWidth);
    const rows = Math.ceil(stored.height / stored.blockHeight);
    if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= cols || row >= rows) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `tile (${col}, ${row}) does not exist: level ${level} has ${cols} x ${rows} tiles`,
      );
    }
    const bytes = await readBlockBytes(this.blocks, stored, recipe.realIndex, col, row);
    if (!bytes) return undefined;
    const jpeg = toStandaloneJpeg(bytes, stored.jpegTables, stored.photometric);
    return jpeg.browserSafe ? jpeg.bytes : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pool) {
      this.pool = undefined;
      releaseDecoderPool();
    }
    evictTileCacheOwner(this.cacheOwner);
    await this.file.close();
  }

  private decoderPool(): Pool {
    this.assertOpen();
    return (this.pool ??= acquireDecoderPool());
  }

  private assertOpen(): void {
    if (this.closed) throw new GlomsegError('FAILED_PRECONDITION', `slide '${this.metadata.id}' is closed`);
  }

  /** A region of a stored level: decodes only the tiles it covers, in parallel, and copies them in. */
  private readonly readStored: ReadRealRegion = async (realIndex, x, y, width, height, signal) => {
    const level = this.stored[realIndex];
    const out = whiteImage(width, height);
    const cols = overlap(x, x + width, 0, level.width);
    const rows = overlap(y, y + height, 0, level.height);
    if (!cols || !rows) return out;
    const blocks: Array<[number, number]> = [];
    for (let row = Math.floor(rows[0] / level.blockHeight); row * level.blockHeight < rows[1]; row++) {
      for (let col = Math.floor(cols[0] / level.blockWidth); col * level.blockWidth < cols[1]; col++)
        blocks.push([col, row]);
    }
    // One-row strips turn one window into thousands of decodes: refuse before decoding any.
    if (blocks.length > this.limits.maxStoredBlocksPerRead) {
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `${this.metadata.name}: a ${width} x ${height} window of stored level ${realIndex} spans ${blocks.length} stored ${level.tiled ? 'tiles' : 'strips'} of ${level.blockWidth} x ${level.blockHeight} pixels; at most ${this.limits.maxStoredBlocksPerRead} per read (re-save the slide with 256-1024 pixel tiles)`,
      );
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < blocks.length) {
        const [col, row] = blocks[next++];
        throwIfAborted(signal);
        const tile = await cachedTile(this.cacheOwner, `${realIndex}:${col}:${row}`, () =>
          decodeBlock(this.blocks, level, realIndex, col, row),
        );
        throwIfAborted(signal);
        const bx = col * level.blockWidth;
        const by = row * level.blockHeight;
        const xs = overlap(bx, bx + tile.width, cols[0], cols[1]);
        const ys = overlap(by, by + tile.height, rows[0], rows[1]);
        if (xs && ys) copyBlock(tile, xs[0] - bx, ys[0] - by, out, xs[0] - x, ys[0] - y, xs[1] - xs[0], ys[1] - ys[0]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, blocks.length) }, worker));
    return out;
  };
}
