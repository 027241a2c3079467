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
import { libraryDetail } from './library-detail.js';
import { acquireDecoderPool, releaseDecoderPool } from './decoder-pool.js';
import { DEFAULT_READER_LIMITS, type ReaderLimits } from './slide-reader.js';
import { isDecodableCompression, tiffCompressionName } from './tiff-codecs/index.js';
import { basename } from 'node:path';
import { stat } from 'node:fs/promises';
import { GeoTIFF, GeoTIFFImage, type Pool } from 'geotiff';
import { GlomsegError, isGlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import { MAX_COORDINATE } from '@glomseg/shared/geometry.js';
import type { RegionRequest, RgbImage, SlideMetadata, SlideSource } from '@glomseg/shared/slide-source.js';
import { TiffFileSource, type TiffBytes } from './tiff-file-source.js';
import { RemoteTiffSource } from './remote-tiff-source.js';
import { cachedTile, evictTileCacheOwner, newTileCacheOwner } from './tile-cache.js';
import { decodeJpegToRgb, PHOTOMETRIC_MIN_IS_BLACK, PHOTOMETRIC_RGB, PHOTOMETRIC_YCBCR, toRgb, toStandaloneJpeg } from './jpeg-tile.js';
import { copyBlock, overlap, validateRegion, whiteImage } from './rgb-region.js';
import { planPyramid, readSynthesizedRegion, type LevelRecipe } from './synthesized-levels.js';
import { isAperioDescription, isOmeXml, parseAperioDescription, parseOmeXml, pixelSizeFromResolution, type PixelSize } from './tiff-description.js';

/** Stop walking an IFD chain after this many directories (a garbage file may loop or go on forever). */
const MAX_DIRECTORIES = 1024;
/** One decoded tile or strip may not exceed this (a huge single-strip image cannot be read piecewise). */
const MAX_BLOCK_PIXELS = 64 * 1024 * 1024;
/** Tiles decoded at once per region read (sharp decodes on libuv's thread pool). */
const DECODE_CONCURRENCY = 4;

const JPEG = 7;
/** File name endings of TIFF-family slides (`.ome.tif(f)` is covered by `.tif(f)`). */
export const TIFF_EXTENSIONS = ['.tif', '.tiff', '.svs', '.btf'] as const;

/** Whether the bytes start a TIFF or BigTIFF (II*\0, MM\0*, II+\0, MM\0+). */
export function isTiffHeader(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const version = head[0] === 0x49 && head[1] === 0x49 ? head[2] | (head[3] << 8) : head[0] === 0x4d && head[1] === 0x4d ? (head[2] << 8) | head[3] : 0;
  return version === 42 || version === 43;
}

function unsupportedCompressionMessage(code: number): string {
  return `unsupported compression: ${tiffCompressionName(code)} (TIFF compression ${code}) cannot be decoded here; convert the slide to a tiled TIFF with JPEG, LZW or Deflate compression (e.g. \`vips tiffsave in.svs out.tif --tile --pyramid --compression jpeg\`)`;
}

/** Bytes in words: MiB from 1 MiB up, else the count. */
function bytesInWords(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Number((bytes / 2 ** 20).toFixed(1))} MiB` : `${bytes.toLocaleString('en-US')} bytes`;
}

/** One stored image of the pyramid, with the tags needed to read it. */
interface StoredLevel {
  image: GeoTIFFImage;
  width: number;
  height: number;
  tiled: boolean;
  /** Tile size, or image width x RowsPerStrip for strips. */
  blockWidth: number;
  blockHeight: number;
  compression: number;
  photometric: number;
  samplesPerPixel: number;
  planarConfiguration: number;
  jpegTables?: Uint8Array;
  /** Why this level cannot be read, when it cannot. */
  unreadable?: string;
}

interface Directory {
  image: GeoTIFFImage;
  description: string;
  /** Position in the IFD chain, or -1 for a SubIFD. */
  chainIndex: number;
  subfileType: number;
}

function notReadable(filePath: string, detail: string, cause?: unknown): GlomsegError {
  return new GlomsegError('INVALID_ARGUMENT', `not a readable TIFF: ${basename(filePath)}: ${detail}`, { cause });
}

async function tagValue(image: GeoTIFFImage, name: string): Promise<unknown> {
  const fileDirectory = image.fileDirectory;
  if (!fileDirectory.hasTag(name as never)) return undefined;
  return fileDirectory.loadValue(name as never);
}

async function numberTag(image: GeoTIFFImage, name: string, fallback: number): Promise<number> {
  const value = await tagValue(image, name);
  if (typeof value === 'number') return value;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Number((value as ArrayLike<number>)[0] ?? fallback);
  return fallback;
}

async function stringTag(image: GeoTIFFImage, name: string): Promise<string> {
  const value = await tagValue(image, name);
  return typeof value === 'string' ? value.replace(/\0+$/, '') : '';
}

export class GeoTiffSlideSource implements SlideSource {
  private readonly cacheOwner: string;
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
  }

  static async open(filePath: string, id: string, signal?: AbortSignal, limits: ReaderLimits = DEFAULT_READER_LIMITS): Promise<GeoTiffSlideSource> {
    throwIfAborted(signal);
    const info = await stat(filePath).catch((error: NodeJS.ErrnoException) => {
      throw new GlomsegError('NOT_FOUND', `cannot open slide file ${filePath}: ${error.code ?? error.message}`, { cause: error });
    });
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
  static async openUrl(url: string, label: string, id: string, signal?: AbortSignal, limits: ReaderLimits = DEFAULT_READER_LIMITS): Promise<GeoTiffSlideSource> {
    throwIfAborted(signal);
    const file = await RemoteTiffSource.open(url, label, signal);
    try {
      return await GeoTiffSlideSource.openFrom(file, label, id, limits, signal);
    } catch (error) {
      if (isGlomsegError(error)) throw error;
      throw notReadable(label, error instanceof Error ? error.message : String(error), error);
    }
  }

  private static async openFrom(file: TiffBytes, filePath: string, id: string, limits: ReaderLimits, signal?: AbortSignal): Promise<GeoTiffSlideSource> {
    const header = await file.read(0, Math.min(16, file.size));
    const byteOrder = String.fromCharCode(header[0] ?? 0, header[1] ?? 0);
    if (byteOrder !== 'II' && byteOrder !== 'MM') throw notReadable(filePath, 'the file does not start with a TIFF header (II or MM)');
    if (file.size < 16) throw notReadable(filePath, `the file is only ${file.size} bytes long (truncated)`);
    const tiff = await GeoTIFF.fromSource(file as never, {}, signal);
    throwIfAborted(signal);
    const bigTiff = Boolean((tiff as unknown as { bigTiff: boolean }).bigTiff);

    const { directories, truncatedChain } = await readDirectories(tiff, file.size, signal);
    if (directories.length === 0) throw notReadable(filePath, 'it holds no image directories');
    const first = directories[0];
    const firstDescription = first.description;
    const aperio = isAperioDescription(firstDescription);
    const ome = isOmeXml(firstDescription);

    const candidates: StoredLevel[] = [];
    for (const directory of directories) {
      const level = await describeStoredLevel(directory.image);
      if (level && isPyramidLevel(level, directory, candidates[0], ome)) candidates.push(level);
    }
    if (candidates.length === 0) throw notReadable(filePath, 'no directory holds an image with a width and height');
    const stored = uniqueBySize(candidates);
    const oversized = stored.map(sizeBeyondBounds).find((why) => why !== undefined);
    if (oversized) throw notReadable(filePath, oversized);
    const plan = planPyramid(stored.map((level) => ({
      width: level.width,
      height: level.height,
      tileWidth: level.tiled ? level.blockWidth : 0,
      tileHeight: level.tiled ? level.blockHeight : 0,
    })));

    const metadata: Record<string, string> = {};
    let pixelSize: PixelSize | undefined;
    let mppSource: SlideMetadata['mppSource'] = '';
    if (aperio) {
      const parsed = parseAperioDescription(firstDescription);
      Object.assign(metadata, parsed.metadata);
      if (parsed.pixelSize) { pixelSize = parsed.pixelSize; mppSource = 'aperio'; }
    } else if (ome) {
      const parsed = parseOmeXml(firstDescription);
      Object.assign(metadata, parsed.metadata);
      if (parsed.pixelSize) { pixelSize = parsed.pixelSize; mppSource = 'ome'; }
    } else if (firstDescription) {
      metadata['tiff.ImageDescription'] = firstDescription.slice(0, 4096);
    }
    const level0 = stored[0];
    if (!pixelSize) {
      pixelSize = pixelSizeFromResolution(
        await tagValue(level0.image, 'XResolution'),
        await tagValue(level0.image, 'YResolution'),
        await tagValue(level0.image, 'ResolutionUnit'),
      );
      if (pixelSize) mppSource = 'tiff-resolution';
    }
    for (const name of ['Software', 'DateTime', 'Make', 'Model', 'Artist']) {
      const value = await stringTag(first.image, name);
      if (value) metadata[`tiff.${name}`] = value;
    }
    metadata['tiff.Compression'] = String(level0.compression);
    metadata['tiff.PhotometricInterpretation'] = String(level0.photometric);
    metadata['tiff.StoredLevels'] = String(stored.length);
    if (level0.unreadable) metadata['glomseg.unreadable'] = level0.unreadable;
    if (truncatedChain) metadata['glomseg.warning'] = 'the chain of image directories points past the end of the file (truncated?); later directories were skipped';

    const slideMetadata: SlideMetadata = {
      id,
      name: basename(filePath),
      width: level0.width,
      height: level0.height,
      levels: plan.levels,
      tileWidth: level0.tiled ? level0.blockWidth : 0,
      tileHeight: level0.tiled ? level0.blockHeight : 0,
      mppX: pixelSize?.mppX,
      mppY: pixelSize?.mppY,
      mppSource,
      format: aperio ? 'aperio-svs' : ome ? 'ome-tiff' : bigTiff ? 'bigtiff' : 'tiff',
      compression: tiffCompressionName(level0.compression),
      metadata,
      fileSize: file.size,
      samplesPerPixel: level0.samplesPerPixel,
    };
    return new GeoTiffSlideSource(slideMetadata, file, stored, plan.recipes, limits);
  }

  async readRegion(region: RegionRequest, signal?: AbortSignal): Promise<RgbImage> {
    this.assertOpen();
    validateRegion(region, this.metadata.levels.length);
    throwIfAborted(signal);
    const recipe = this.recipes[region.level];
    const real = this.stored[recipe.realIndex];
    if (real.unreadable) throw new GlomsegError('FAILED_PRECONDITION', `${this.metadata.name}: ${real.unreadable}`);
    if (recipe.factor === 1) return this.readStored(recipe.realIndex, region.x, region.y, region.width, region.height, signal);
    const target = this.metadata.levels[region.level];
    return readSynthesizedRegion(
      (realIndex, x, y, width, height, innerSignal) => this.readStored(realIndex, x, y, width, height, innerSignal),
      { realIndex: recipe.realIndex, width: real.width, height: real.height },
      recipe.factor,
      target,
      region,
      signal,
    );
  }

  async readRawJpegTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    this.assertOpen();
    throwIfAborted(signal);
    const recipe = this.recipes[level];
    if (!recipe) throw new GlomsegError('INVALID_ARGUMENT', `level ${level} does not exist: the slide has levels 0 to ${this.recipes.length - 1}`);
    const stored = this.stored[recipe.realIndex];
    if (recipe.factor !== 1 || !stored.tiled || !canPassJpegThrough(stored)) return undefined;
    const cols = Math.ceil(stored.width / stored.blockWidth);
    const rows = Math.ceil(stored.height / stored.blockHeight);
    if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= cols || row >= rows) {
      throw new GlomsegError('INVALID_ARGUMENT', `tile (${col}, ${row}) does not exist: level ${level} has ${cols} x ${rows} tiles`);
    }
    const bytes = await this.readBlockBytes(stored, recipe.realIndex, col, row);
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
  private async readStored(realIndex: number, x: number, y: number, width: number, height: number, signal?: AbortSignal): Promise<RgbImage> {
    const level = this.stored[realIndex];
    const out = whiteImage(width, height);
    const cols = overlap(x, x + width, 0, level.width);
    const rows = overlap(y, y + height, 0, level.height);
    if (!cols || !rows) return out;
    const blocks: Array<[number, number]> = [];
    for (let row = Math.floor(rows[0] / level.blockHeight); row * level.blockHeight < rows[1]; row++) {
      for (let col = Math.floor(cols[0] / level.blockWidth); col * level.blockWidth < cols[1]; col++) blocks.push([col, row]);
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
        const tile = await cachedTile(this.cacheOwner, `${realIndex}:${col}:${row}`, () => this.decodeBlock(level, realIndex, col, row));
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
  }

  /** The stored bytes of one tile or strip, or undefined for a block the file leaves empty (byte count 0). */
  private async readBlockBytes(level: StoredLevel, realIndex: number, col: number, row: number): Promise<Uint8Array | undefined> {
    const index = row * Math.ceil(level.width / level.blockWidth) + col;
    const fileDirectory = level.image.fileDirectory;
    let offset: number;
    let byteCount: number;
    try {
      offset = Number(await fileDirectory.loadValueIndexed(level.tiled ? 'TileOffsets' : 'StripOffsets', index));
      byteCount = Number(await fileDirectory.loadValueIndexed(level.tiled ? 'TileByteCounts' : 'StripByteCounts', index));
    } catch (error) {
      throw new GlomsegError(
        'FAILED_PRECONDITION',
        `not a readable TIFF: ${this.metadata.name}: the tile table of stored level ${realIndex} cannot be read (${libraryDetail(error)})`,
        { cause: error },
      );
    }
    if (!Number.isFinite(offset) || !Number.isFinite(byteCount)) {
      throw new GlomsegError('FAILED_PRECONDITION', `not a readable TIFF: ${this.metadata.name}: level ${realIndex} has no offset for block (${col}, ${row})`);
    }
    if (byteCount === 0) return undefined;
    if (offset + byteCount > this.file.size) {
      throw new GlomsegError(
        'FAILED_PRECONDITION',
        `not a readable TIFF: ${this.metadata.name}: block (${col}, ${row}) of stored level ${realIndex} lies past the end of the ${this.file.size}-byte file — the file is truncated`,
      );
    }
    return this.file.read(offset, byteCount);
  }

  private async decodeBlock(level: StoredLevel, realIndex: number, col: number, row: number): Promise<RgbImage> {
    const blockWidth = Math.min(level.blockWidth, level.width - col * level.blockWidth);
    const blockHeight = Math.min(level.blockHeight, level.height - row * level.blockHeight);
    const decodedBytes = blockWidth * blockHeight * Math.max(3, level.samplesPerPixel);
    if (decodedBytes > this.limits.maxDecodedTileBytes) {
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `${this.metadata.name}: stored level ${realIndex} has ${blockWidth} x ${blockHeight} pixel ${level.tiled ? 'tiles' : 'strips'} (${bytesInWords(decodedBytes)} decoded each); at most ${bytesInWords(this.limits.maxDecodedTileBytes)} per tile (re-save the slide with 256-1024 pixel tiles)`,
      );
    }
    const bytes = await this.readBlockBytes(level, realIndex, col, row);
    if (!bytes) return whiteImage(blockWidth, blockHeight);
    if (canPassJpegThrough(level)) {
      try {
        const decoded = await decodeJpegToRgb(toStandaloneJpeg(bytes, level.jpegTables, level.photometric).bytes);
        if (decoded.width >= blockWidth && decoded.height >= blockHeight) return decoded;
      } catch {
        // libjpeg refused the stream: let geotiff's own decoder try before giving up.
      }
    }
    try {
      const x0 = col * level.blockWidth;
      const y0 = row * level.blockHeight;
      const raster = await level.image.readRGB({ window: [x0, y0, x0 + blockWidth, y0 + blockHeight], interleave: true, enableAlpha: false, pool: this.decoderPool() });
      const data = raster as unknown as ArrayLike<number> & { width: number; height: number };
      const channels = data.length / (blockWidth * blockHeight);
      const pixels = data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>);
      return toRgb(pixels, blockWidth, blockHeight, channels);
    } catch (error) {
      throw new GlomsegError(
        'FAILED_PRECONDITION',
        `cannot decode block (${col}, ${row}) of stored level ${realIndex} of ${this.metadata.name}: ${libraryDetail(error)}`,
        { cause: error },
      );
    }
  }
}

/** The IFD chain (cycle- and length-guarded) plus the SubIFDs of its first directory (OME-TIFF pyramids). */
async function readDirectories(tiff: GeoTIFF, fileSize: number, signal?: AbortSignal): Promise<{ directories: Directory[]; truncatedChain: boolean }> {
  const directories: Directory[] = [];
  let truncatedChain = false;
  const seenOffsets = new Set<number>();
  for (let index = 0; index < MAX_DIRECTORIES; index++) {
    throwIfAborted(signal);
    const image = await tiff.getImage(index);
    directories.push({ image, description: await stringTag(image, 'ImageDescription'), chainIndex: index, subfileType: await numberTag(image, 'NewSubfileType', 0) });
    const nextOffset = Number(image.fileDirectory.nextIFDByteOffset);
    if (nextOffset >= fileSize) truncatedChain = true;
    if (!nextOffset || nextOffset >= fileSize || seenOffsets.has(nextOffset)) break;
    seenOffsets.add(nextOffset);
  }
  const subIfdOffsets = await tagValue(directories[0].image, 'SubIFDs');
  if (subIfdOffsets !== undefined) {
    const parser = (tiff as unknown as { parser: { parseFileDirectoryAt(offset: number): Promise<GeoTIFFImage['fileDirectory']> } }).parser;
    const offsets = typeof subIfdOffsets === 'number' ? [subIfdOffsets] : Array.from(subIfdOffsets as ArrayLike<number | bigint>, Number);
    for (const offset of offsets.slice(0, MAX_DIRECTORIES)) {
      if (!offset || offset >= fileSize) continue;
      const fileDirectory = await parser.parseFileDirectoryAt(offset);
      const image = new GeoTIFFImage(fileDirectory, tiff.littleEndian, false, tiff.source);
      directories.push({ image, description: await stringTag(image, 'ImageDescription'), chainIndex: -1, subfileType: await numberTag(image, 'NewSubfileType', 0) });
    }
  }
  return { directories, truncatedChain };
}

async function describeStoredLevel(image: GeoTIFFImage): Promise<StoredLevel | undefined> {
  const width = await numberTag(image, 'ImageWidth', 0);
  const height = await numberTag(image, 'ImageLength', 0);
  if (!(width > 0 && height > 0)) return undefined;
  const tiled = image.fileDirectory.hasTag('TileWidth' as never);
  const blockWidth = tiled ? await numberTag(image, 'TileWidth', 0) : width;
  const blockHeight = tiled ? await numberTag(image, 'TileLength', 0) : Math.min(height, await numberTag(image, 'RowsPerStrip', height));
  const compression = await numberTag(image, 'Compression', 1);
  const samplesPerPixel = await numberTag(image, 'SamplesPerPixel', 1);
  const photometric = await numberTag(image, 'PhotometricInterpretation', samplesPerPixel >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MIN_IS_BLACK);
  const planarConfiguration = await numberTag(image, 'PlanarConfiguration', 1);
  const bitsPerSample = await numberTag(image, 'BitsPerSample', 1);
  const jpegTablesValue = compression === JPEG ? await tagValue(image, 'JPEGTables') : undefined;
  const jpegTables = jpegTablesValue && ArrayBuffer.isView(jpegTablesValue) ? new Uint8Array(Array.from(jpegTablesValue as unknown as ArrayLike<number>)) : undefined;
  let unreadable: string | undefined;
  if (!isDecodableCompression(compression)) unreadable = unsupportedCompressionMessage(compression);
  else if (bitsPerSample !== 8) unreadable = `unsupported sample depth: ${bitsPerSample} bits per sample (only 8-bit slides are read)`;
  else if (!(blockWidth > 0 && blockHeight > 0)) unreadable = 'not a readable TIFF: the tile or strip size is missing';
  else if (blockWidth * blockHeight > MAX_BLOCK_PIXELS) {
    unreadable = `a single ${tiled ? 'tile' : 'strip'} of ${blockWidth}x${blockHeight} pixels is too large to decode piecewise; re-save the slide as a tiled TIFF`;
  }
  return { image, width, height, tiled, blockWidth, blockHeight, compression, photometric, samplesPerPixel, planarConfiguration, jpegTables, unreadable };
}

/** SamplesPerPixel is a SHORT in TIFF 6.0; a larger value is crafted. */
const MAX_SAMPLES_PER_PIXEL = 0xffff;

/**
 * Why a stored level's sizes cannot be served, if they cannot: each side must be whole pixels, at most
 * MAX_COORDINATE (what a region can address, well inside the API's 32-bit fields). TIFF tags go to 2^32 - 1;
 * such sizes are crafted or damaged, not scanned.
 */
function sizeBeyondBounds(level: StoredLevel, index: number): string | undefined {
  const sides: Array<[string, number]> = [['width', level.width], ['height', level.height]];
  if (level.tiled) sides.push(['tile width', level.blockWidth], ['tile height', level.blockHeight]);
  for (const [name, value] of sides) {
    if (!Number.isInteger(value) || value > MAX_COORDINATE) {
      return `stored level ${index} claims ${name} ${value}; a slide may have at most ${MAX_COORDINATE} pixels a side (the file is damaged or crafted)`;
    }
  }
  if (!Number.isInteger(level.samplesPerPixel) || level.samplesPerPixel > MAX_SAMPLES_PER_PIXEL) {
    return `stored level ${index} claims ${level.samplesPerPixel} samples per pixel; TIFF allows at most ${MAX_SAMPLES_PER_PIXEL} (the file is damaged or crafted)`;
  }
  return undefined;
}

/**
 * Which directories are pyramid levels: the first directory always; later ones only when tiled, not an Aperio
 * label/macro/thumbnail, not a transparency mask, and with the aspect ratio of level 0 (a reduced copy of it).
 */
function isPyramidLevel(level: StoredLevel, directory: Directory, level0: StoredLevel | undefined, ome: boolean): boolean {
  if (!level0) return true;
  if (!level.tiled) return false;
  if (directory.subfileType & 4) return false;
  if (!ome && /\b(label|macro|thumbnail)\b/i.test(directory.description)) return false;
  if (level.width >= level0.width) return level.width === level0.width && level.height === level0.height;
  const downsample = level0.width / level.width;
  return Math.abs(level0.height / downsample - level.height) <= Math.max(2, 0.02 * level.height);
}

/** Largest first, one directory per size (OME planes or duplicate pages of the same size are dropped). */
function uniqueBySize(levels: StoredLevel[]): StoredLevel[] {
  const sorted = [...levels].sort((a, b) => b.width * b.height - a.width * a.height);
  return sorted.filter((level, i) => i === 0 || level.width !== sorted[i - 1].width || level.height !== sorted[i - 1].height);
}

/** Tiles whose stored bytes are a JPEG that libjpeg (sharp, browsers) decodes to the right colours. */
function canPassJpegThrough(level: StoredLevel): boolean {
  if (level.compression !== JPEG || level.planarConfiguration !== 1) return false;
  if (level.samplesPerPixel === 3) return level.photometric === PHOTOMETRIC_RGB || level.photometric === PHOTOMETRIC_YCBCR;
  return level.samplesPerPixel === 1 && level.photometric === PHOTOMETRIC_MIN_IS_BLACK;
}
