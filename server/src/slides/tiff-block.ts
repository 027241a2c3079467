/**
 * One stored block (tile or strip) of a TIFF level: its bytes, checked against the file, and its decode to RGB.
 * JPEG blocks go to sharp (libjpeg-turbo) with the JPEGTables spliced in; the rest, and JPEGs libjpeg refuses, go
 * to geotiff's decoders in its worker pool. The decoded size is bounded before any byte is read.
 */
import type { Pool } from 'geotiff';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { libraryDetail } from './library-detail.js';
import type { ReaderLimits } from './slide-reader.js';
import type { TiffBytes } from './tiff-file-source.js';
import {
  decodeJpegToRgb,
  PHOTOMETRIC_MIN_IS_BLACK,
  PHOTOMETRIC_RGB,
  PHOTOMETRIC_YCBCR,
  toRgb,
  toStandaloneJpeg,
} from './jpeg-tile.js';
import { whiteImage } from './rgb-region.js';
import { JPEG, type StoredLevel } from './tiff-pyramid.js';

/** What reading a block needs from its slide. */
export interface BlockSource {
  /** The slide's name, for messages. */
  name: string;
  file: TiffBytes;
  limits: ReaderLimits;
  /** geotiff's decoder workers, taken only when a block needs them. */
  decoderPool: () => Pool;
}

/** Bytes in words: MiB from 1 MiB up, else the count. */
function bytesInWords(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Number((bytes / 2 ** 20).toFixed(1))} MiB` : `${bytes.toLocaleString('en-US')} bytes`;
}

/** Tiles whose stored bytes are a JPEG that libjpeg (sharp, browsers) decodes to the right colours. */
export function canPassJpegThrough(level: StoredLevel): boolean {
  if (level.compression !== JPEG || level.planarConfiguration !== 1) return false;
  if (level.samplesPerPixel === 3)
    return level.photometric === PHOTOMETRIC_RGB || level.photometric === PHOTOMETRIC_YCBCR;
  return level.samplesPerPixel === 1 && level.photometric === PHOTOMETRIC_MIN_IS_BLACK;
}

/** The stored bytes of one tile or strip, or undefined for a block the file leaves empty (byte count 0). */
export async function readBlockBytes(
  source: BlockSource,
  level: StoredLevel,
  realIndex: number,
  col: number,
  row: number,
): Promise<Uint8Array | undefined> {
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
      `not a readable TIFF: ${source.name}: the tile table of stored level ${realIndex} cannot be read (${libraryDetail(error)})`,
      { cause: error },
    );
  }
  if (!Number.isFinite(offset) || !Number.isFinite(byteCount)) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `not a readable TIFF: ${source.name}: level ${realIndex} has no offset for block (${col}, ${row})`,
    );
  }
  if (byteCount === 0) return undefined;
  if (offset + byteCount > source.file.size) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `not a readable TIFF: ${source.name}: block (${col}, ${row}) of stored level ${realIndex} lies past the end of the ${source.file.size}-byte file — the file is truncated`,
    );
  }
  return source.file.read(offset, byteCount);
}

/** One block decoded to RGB (an empty block is white), refused up front when its decoded size is over the limit. */
export async function decodeBlock(
  source: BlockSource,
  level: StoredLevel,
  realIndex: number,
  col: number,
  row: number,
): Promise<RgbImage> {
  const blockWidth = Math.min(level.blockWidth, level.width - col * level.blockWidth);
  const blockHeight = Math.min(level.blockHeight, level.height - row * level.blockHeight);
  const decodedBytes = blockWidth * blockHeight * Math.max(3, level.samplesPerPixel);
  if (decodedBytes > source.limits.maxDecodedTileBytes) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `${source.name}: stored level ${realIndex} has ${blockWidth} x ${blockHeight} pixel ${level.tiled ? 'tiles' : 'strips'} (${bytesInWords(decodedBytes)} decoded each); at most ${bytesInWords(source.limits.maxDecodedTileBytes)} per tile (re-save the slide with 256-1024 pixel tiles)`,
    );
  }
  const bytes = await readBlockBytes(source, level, realIndex, col, row);
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
    const raster = await level.image.readRGB({
      window: [x0, y0, x0 + blockWidth, y0 + blockHeight],
      interleave: true,
      enableAlpha: false,
      pool: source.decoderPool(),
    });
    const data = raster as unknown as ArrayLike<number> & { width: number; height: number };
    const channels = data.length / (blockWidth * blockHeight);
    const pixels = data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>);
    return toRgb(pixels, blockWidth, blockHeight, channels);
  } catch (error) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `cannot decode block (${col}, ${row}) of stored level ${realIndex} of ${source.name}: ${libraryDetail(error)}`,
      { cause: error },
    );
  }
}
