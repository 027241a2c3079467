/**
 * HuBMAP run-length encoding: pixels are numbered from 1, top to bottom, then left to right (column-major,
 * Fortran order: pixel (x, y) is number x * height + y + 1), and the mask is written as "start length" pairs
 * separated by spaces. Slides reach 50000 x 44000 pixels, so the polygon paths work in vertical bands and never
 * allocate a whole-slide mask.
 */
import type { GlomerulusPolygon, Polygon } from './geometry.js';
import { GlomsegError } from './errors.js';
import { joinAcrossTiles } from './join-polygons.js';
import { binaryMaskToPolygons, type MaskToPolygonsOptions } from './mask-to-polygons.js';
import { polygonBBox, rasterizePolygons } from './rasterize.js';

/** Pixels per band when working in vertical bands (about 16 MB of mask). */
const BAND_PIXELS = 1 << 24;

function assertSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `RLE needs the mask size as positive whole pixels, got ${width} x ${height}`,
    );
  }
}

/** Collects runs in pixel-number order, joining runs that continue one another (across columns and bands). */
class RunWriter {
  private readonly parts: string[] = [];
  private start = -1;
  private length = 0;

  /** Adds pixels [start, start + length) (0-based pixel numbers, increasing). */
  add(start: number, length: number): void {
    if (this.length > 0 && this.start + this.length === start) {
      this.length += length;
      return;
    }
    this.flush();
    this.start = start;
    this.length = length;
  }

  finish(): string {
    this.flush();
    return this.parts.join(' ');
  }

  private flush(): void {
    if (this.length > 0) this.parts.push(`${this.start + 1} ${this.length}`);
    this.length = 0;
  }
}

/** RLE of a row-major mask (non-zero = inside). */
export function encodeMaskRle(mask: Uint8Array, width: number, height: number): string {
  assertSize(width, height);
  if (mask.length !== width * height) {
    throw new GlomsegError('INVALID_ARGUMENT', `mask of ${mask.length} pixels does not match ${width} x ${height}`);
  }
  const writer = new RunWriter();
  writeColumns(mask, width, height, 0, width, writer);
  return writer.finish();
}

/** Appends the runs of columns [0, columns) of a row-major band whose first column is slide column `x0`. */
function writeColumns(
  band: Uint8Array,
  bandWidth: number,
  height: number,
  x0: number,
  columns: number,
  writer: RunWriter,
): void {
  for (let x = 0; x < columns; x++) {
    const base = (x0 + x) * height;
    let runStart = -1;
    for (let y = 0; y <= height; y++) {
      const on = y < height && band[y * bandWidth + x] !== 0;
      if (on && runStart < 0) runStart = y;
      else if (!on && runStart >= 0) {
        writer.add(base + runStart, y - runStart);
        runStart = -1;
      }
    }
  }
}

/** Parsed runs as 0-based [start, length] pairs, checked against the mask size. */
export function parseRle(rle: string, width: number, height: number): Array<[number, number]> {
  assertSize(width, height);
  const text = rle.trim();
  if (text === '') return [];
  const tokens = text.split(/\s+/);
  if (tokens.length % 2 !== 0) {
    throw new GlomsegError('INVALID_ARGUMENT', `RLE has ${tokens.length} numbers; it must be "start length" pairs`);
  }
  const total = width * height;
  const runs: Array<[number, number]> = [];
  let end = 0;
  for (let i = 0; i < tokens.length; i += 2) {
    const start = Number(tokens[i]);
    const length = Number(tokens[i + 1]);
    if (!/^\d+$/.test(tokens[i]) || !/^\d+$/.test(tokens[i + 1]) || start < 1 || length < 1) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `RLE pair ${i / 2 + 1} ("${tokens[i]} ${tokens[i + 1]}") is not a start >= 1 and a length >= 1`,
      );
    }
    if (start - 1 < end) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `RLE pair ${i / 2 + 1} starts at pixel ${start}, before the end of the previous run; runs must be sorted and not overlap`,
      );
    }
    if (start - 1 + length > total) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `RLE pair ${i / 2 + 1} (${start} ${length}) runs past the last pixel (${total}) of a ${width} x ${height} mask`,
      );
    }
    runs.push([start - 1, length]);
    end = start - 1 + length;
  }
  return runs;
}

/** Row-major mask (1 inside) of an RLE string. */
export function decodeMaskRle(rle: string, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const [start, length] of parseRle(rle, width, height)) fillRun(mask, width, height, 0, width, start, length);
  return mask;
}

/** Sets the pixels of a column-major run that fall in columns [x0, x0 + bandWidth) of a row-major band. */
function fillRun(
  band: Uint8Array,
  bandWidth: number,
  height: number,
  x0: number,
  bandEnd: number,
  start: number,
  length: number,
): void {
  const end = start + length;
  let k = Math.max(start, x0 * height);
  const stop = Math.min(end, bandEnd * height);
  while (k < stop) {
    const x = Math.floor(k / height);
    const y = k - x * height;
    const columnEnd = Math.min(stop, (x + 1) * height);
    for (let row = y, i = y * bandWidth + (x - x0); row < y + (columnEnd - k); row++, i += bandWidth) band[i] = 1;
    k = columnEnd;
  }
}

function bandWidthFor(width: number, height: number, bandWidth?: number): number {
  return Math.max(1, Math.min(width, bandWidth ?? Math.floor(BAND_PIXELS / height)));
}

/**
 * RLE of the union of polygons (pixel-centre rule of rasterize.ts) on a width x height slide, rasterised in
 * vertical bands of `bandWidth` columns (default: about 16 M pixels per band); runs that continue from one column
 * or band into the next are stitched.
 */
export function encodePolygonsRle(
  polygons: readonly Polygon[],
  width: number,
  height: number,
  options: { bandWidth?: number } = {},
): string {
  assertSize(width, height);
  const bandWidth = bandWidthFor(width, height, options.bandWidth);
  const boxes = polygons.map(polygonBBox);
  const buffer = new Uint8Array(bandWidth * height);
  const writer = new RunWriter();
  for (let x0 = 0; x0 < width; x0 += bandWidth) {
    const columns = Math.min(bandWidth, width - x0);
    const inBand = polygons.filter((_, i) => boxes[i].x < x0 + columns && boxes[i].x + boxes[i].width > x0);
    if (inBand.length === 0) continue;
    const band = rasterizePolygons(inBand, { x: x0, y: 0, width: columns, height }, buffer);
    writeColumns(band, columns, height, x0, columns, writer);
  }
  return writer.finish();
}

/**
 * Polygons of an RLE mask (for RLE CSV ground truth), traced with exact pixel outlines by default, in vertical
 * bands joined across their borders. `meanProbability` is 1.
 */
export function rleToPolygons(
  rle: string,
  width: number,
  height: number,
  options: MaskToPolygonsOptions & { bandWidth?: number } = {},
): GlomerulusPolygon[] {
  const runs = parseRle(rle, width, height);
  const bandWidth = bandWidthFor(width, height, options.bandWidth);
  const traceOptions = { minArea: 0, simplifyTolerance: options.simplifyTolerance ?? 0 };
  const pieces: GlomerulusPolygon[] = [];
  let first = 0;
  for (let x0 = 0; x0 < width; x0 += bandWidth) {
    const columns = Math.min(bandWidth, width - x0);
    const bandStart = x0 * height;
    const bandEnd = (x0 + columns) * height;
    while (first < runs.length && runs[first][0] + runs[first][1] <= bandStart) first++;
    if (first >= runs.length) break;
    if (runs[first][0] >= bandEnd) continue;
    const band = new Uint8Array(columns * height);
    for (let r = first; r < runs.length && runs[r][0] < bandEnd; r++)
      fillRun(band, columns, height, x0, x0 + columns, runs[r][0], runs[r][1]);
    const bandPieces = binaryMaskToPolygons(band, columns, height, { originX: x0, originY: 0, scale: 1 }, traceOptions);
    // Only band borders inside the slide cut glomeruli; the slide's own edges do not.
    for (const piece of bandPieces) {
      piece.touches = piece.touches.filter(
        (edge) => (edge === 'left' && x0 > 0) || (edge === 'right' && x0 + columns < width),
      );
    }
    pieces.push(...bandPieces);
  }
  const minArea = options.minArea ?? 0;
  return joinAcrossTiles(pieces)
    .map((p) => (p.touches.length > 0 ? { ...p, touches: [] } : p))
    .filter((p) => p.area >= minArea);
}
