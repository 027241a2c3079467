/**
 * The stored levels of a TIFF slide: the IFD chain walked with its guards (cycles, length, truncation) plus the
 * first directory's SubIFDs (OME-TIFF pyramids), each directory described by its tags, and the directories that
 * are pyramid levels (not labels, macros, thumbnails or masks), largest first, their sizes within bounds.
 */
import { basename } from 'node:path';
import { GeoTIFF, GeoTIFFImage } from 'geotiff';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import { MAX_COORDINATE } from '@glomseg/shared/geometry.js';
import { PHOTOMETRIC_MIN_IS_BLACK, PHOTOMETRIC_RGB } from './jpeg-tile.js';
import { isOmeXml } from './tiff-description.js';
import { isDecodableCompression, tiffCompressionName } from './tiff-codecs/index.js';
import type { TiffBytes } from './tiff-file-source.js';

/** Stop walking an IFD chain after this many directories (a garbage file may loop or go on forever). */
const MAX_DIRECTORIES = 1024;
/** One decoded tile or strip may not exceed this (a huge single-strip image cannot be read piecewise). */
const MAX_BLOCK_PIXELS = 64 * 1024 * 1024;
/** TIFF Compression 7, JPEG: its JPEGTables are kept for the tiles. */
export const JPEG = 7;

function unsupportedCompressionMessage(code: number): string {
  return `unsupported compression: ${tiffCompressionName(code)} (TIFF compression ${code}) cannot be decoded here; convert the slide to a tiled TIFF with JPEG, LZW or Deflate compression (e.g. \`vips tiffsave in.svs out.tif --tile --pyramid --compression jpeg\`)`;
}

/** One stored image of the pyramid, with the tags needed to read it. */
export interface StoredLevel {
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

export interface Directory {
  image: GeoTIFFImage;
  description: string;
  /** Position in the IFD chain, or -1 for a SubIFD. */
  chainIndex: number;
  subfileType: number;
}

export function notReadable(filePath: string, detail: string, cause?: unknown): GlomsegError {
  return new GlomsegError('INVALID_ARGUMENT', `not a readable TIFF: ${basename(filePath)}: ${detail}`, { cause });
}

export async function tagValue(image: GeoTIFFImage, name: string): Promise<unknown> {
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

export async function stringTag(image: GeoTIFFImage, name: string): Promise<string> {
  const value = await tagValue(image, name);
  return typeof value === 'string' ? value.replace(/\0+$/, '') : '';
}

/** What the readers need of an opened TIFF: its stored levels and its first directory. */
export interface TiffPyramid {
  /** Pyramid levels, largest first. */
  stored: StoredLevel[];
  first: Directory;
  bigTiff: boolean;
  /** The IFD chain points past the end of the file. */
  truncatedChain: boolean;
}

/** Reads the directories of a TIFF and picks its pyramid levels; a file that is not a readable TIFF is INVALID_ARGUMENT. */
export async function readTiffPyramid(file: TiffBytes, filePath: string, signal?: AbortSignal): Promise<TiffPyramid> {
  const header = await file.read(0, Math.min(16, file.size));
  const byteOrder = String.fromCharCode(header[0] ?? 0, header[1] ?? 0);
  if (byteOrder !== 'II' && byteOrder !== 'MM')
    throw notReadable(filePath, 'the file does not start with a TIFF header (II or MM)');
  if (file.size < 16) throw notReadable(filePath, `the file is only ${file.size} bytes long (truncated)`);
  const tiff = await GeoTIFF.fromSource(file as never, {}, signal);
  throwIfAborted(signal);
  const { directories, truncatedChain } = await readDirectories(tiff, file.size, signal);
  if (directories.length === 0) throw notReadable(filePath, 'it holds no image directories');
  const ome = isOmeXml(directories[0].description);
  const candidates: StoredLevel[] = [];
  for (const directory of directories) {
    const level = await describeStoredLevel(directory.image);
    if (level && isPyramidLevel(level, directory, candidates[0], ome)) candidates.push(level);
  }
  if (candidates.length === 0) throw notReadable(filePath, 'no directory holds an image with a width and height');
  const stored = uniqueBySize(candidates);
  const oversized = stored.map(sizeBeyondBounds).find((why) => why !== undefined);
  if (oversized) throw notReadable(filePath, oversized);
  return {
    stored,
    first: directories[0],
    bigTiff: Boolean((tiff as unknown as { bigTiff: boolean }).bigTiff),
    truncatedChain,
  };
}

/** The IFD chain (cycle- and length-guarded) plus the SubIFDs of its first directory (OME-TIFF pyramids). */
async function readDirectories(
  tiff: GeoTIFF,
  fileSize: number,
  signal?: AbortSignal,
): Promise<{ directories: Directory[]; truncatedChain: boolean }> {
  const directories: Directory[] = [];
  let truncatedChain = false;
  const seenOffsets = new Set<number>();
  for (let index = 0; index < MAX_DIRECTORIES; index++) {
    throwIfAborted(signal);
    const image = await tiff.getImage(index);
    directories.push({
      image,
      description: await stringTag(image, 'ImageDescription'),
      chainIndex: index,
      subfileType: await numberTag(image, 'NewSubfileType', 0),
    });
    const nextOffset = Number(image.fileDirectory.nextIFDByteOffset);
    if (nextOffset >= fileSize) truncatedChain = true;
    if (!nextOffset || nextOffset >= fileSize || seenOffsets.has(nextOffset)) break;
    seenOffsets.add(nextOffset);
  }
  const subIfdOffsets = await tagValue(directories[0].image, 'SubIFDs');
  if (subIfdOffsets !== undefined) {
    const parser = (
      tiff as unknown as { parser: { parseFileDirectoryAt(offset: number): Promise<GeoTIFFImage['fileDirectory']> } }
    ).parser;
    const offsets =
      typeof subIfdOffsets === 'number'
        ? [subIfdOffsets]
        : Array.from(subIfdOffsets as ArrayLike<number | bigint>, Number);
    for (const offset of offsets.slice(0, MAX_DIRECTORIES)) {
      if (!offset || offset >= fileSize) continue;
      const fileDirectory = await parser.parseFileDirectoryAt(offset);
      const image = new GeoTIFFImage(fileDirectory, tiff.littleEndian, false, tiff.source);
      directories.push({
        image,
        description: await stringTag(image, 'ImageDescription'),
        chainIndex: -1,
        subfileType: await numberTag(image, 'NewSubfileType', 0),
      });
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
  const blockHeight = tiled
    ? await numberTag(image, 'TileLength', 0)
    : Math.min(height, await numberTag(image, 'RowsPerStrip', height));
  const compression = await numberTag(image, 'Compression', 1);
  const samplesPerPixel = await numberTag(image, 'SamplesPerPixel', 1);
  const photometric = await numberTag(
    image,
    'PhotometricInterpretation',
    samplesPerPixel >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MIN_IS_BLACK,
  );
  const planarConfiguration = await numberTag(image, 'PlanarConfiguration', 1);
  const bitsPerSample = await numberTag(image, 'BitsPerSample', 1);
  const jpegTablesValue = compression === JPEG ? await tagValue(image, 'JPEGTables') : undefined;
  const jpegTables =
    jpegTablesValue && ArrayBuffer.isView(jpegTablesValue)
      ? new Uint8Array(Array.from(jpegTablesValue as unknown as ArrayLike<number>))
      : undefined;
  let unreadable: string | undefined;
  if (!isDecodableCompression(compression)) unreadable = unsupportedCompressionMessage(compression);
  else if (bitsPerSample !== 8)
    unreadable = `unsupported sample depth: ${bitsPerSample} bits per sample (only 8-bit slides are read)`;
  else if (!(blockWidth > 0 && blockHeight > 0)) unreadable = 'not a readable TIFF: the tile or strip size is missing';
  else if (blockWidth * blockHeight > MAX_BLOCK_PIXELS) {
    unreadable = `a single ${tiled ? 'tile' : 'strip'} of ${blockWidth}x${blockHeight} pixels is too large to decode piecewise; re-save the slide as a tiled TIFF`;
  }
  return {
    image,
    width,
    height,
    tiled,
    blockWidth,
    blockHeight,
    compression,
    photometric,
    samplesPerPixel,
    planarConfiguration,
    jpegTables,
    unreadable,
  };
}

/** SamplesPerPixel is a SHORT in TIFF 6.0; a larger value is crafted. */
const MAX_SAMPLES_PER_PIXEL = 0xffff;

/**
 * Why a stored level's sizes cannot be served, if they cannot: each side must be whole pixels, at most
 * MAX_COORDINATE (what a region can address, well inside the API's 32-bit fields). TIFF tags go to 2^32 - 1;
 * such sizes are crafted or damaged, not scanned.
 */
function sizeBeyondBounds(level: StoredLevel, index: number): string | undefined {
  const sides: Array<[string, number]> = [
    ['width', level.width],
    ['height', level.height],
  ];
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
function isPyramidLevel(
  level: StoredLevel,
  directory: Directory,
  level0: StoredLevel | undefined,
  ome: boolean,
): boolean {
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
  return sorted.filter(
    (level, i) => i === 0 || level.width !== sorted[i - 1].width || level.height !== sorted[i - 1].height,
  );
}
