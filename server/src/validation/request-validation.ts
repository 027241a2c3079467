/**
 * The edge check of every request field, before any work: proto3's 0 means "not set", anything else must be a
 * finite value in its range, or the call ends with INVALID_ARGUMENT and a message naming the field. Limits
 * that depend on the slide (tiles, Dice grid) are checked by `assertTileBudget` / `assertDiceGrid` once the
 * grid is known, still before inference.
 */
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { Rect } from '@glomseg/shared/geometry.js';
import { MAX_COORDINATE, MPP_RANGE, THRESHOLD_RANGE, type ServingLimits } from './limits.js';

function invalid(message: string): never {
  throw new GlomsegError('INVALID_ARGUMENT', message);
}

/** A float or double field with a proto3 default of 0 (unset): undefined, or a finite value within [min, max]. */
export function optionalInRange(field: string, value: number, range: { min: number; max: number }, unit = ''): number | undefined {
  if (value === 0) return undefined;
  if (!Number.isFinite(value)) invalid(`${field} must be a finite number, got ${value}`);
  if (value < range.min || value > range.max) invalid(`${field} ${value}${unit} is outside ${range.min}..${range.max}${unit} (0 means the default)`);
  return value;
}

export function validThreshold(value: number): number | undefined {
  return optionalInRange('threshold', value, THRESHOLD_RANGE);
}

export function validMppOverride(value: number): number | undefined {
  return optionalInRange('mpp_override', value, MPP_RANGE, ' um/px');
}

export function validSlideId(value: string): string {
  if (!value || !value.trim()) invalid('slide_id is required');
  if (value.length > 4096) invalid(`slide_id is ${value.length} characters long; at most 4096`);
  return value;
}

/** A Dice grid cell edge: 0 (the default) or whole pixels. */
export function validDiceTileEdge(field: string, value: number): number | undefined {
  if (value === 0) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > MAX_COORDINATE) {
    invalid(`${field} ${value} must be whole pixels from 1 to ${MAX_COORDINATE} (0 means the default)`);
  }
  return value;
}

/** A region in level-0 pixels: all zero is "the whole slide"; otherwise finite, inside +-2^30, with a positive size. */
export function validRegion(region: Rect | undefined): Rect | undefined {
  if (!region) return undefined;
  const { x, y, width, height } = region;
  if (x === 0 && y === 0 && width === 0 && height === 0) return undefined;
  for (const [name, v] of Object.entries({ x, y, width, height })) {
    if (!Number.isFinite(v)) invalid(`region.${name} must be a finite number, got ${v}`);
    if (Math.abs(v) > MAX_COORDINATE) invalid(`region.${name} ${v} is beyond +-${MAX_COORDINATE} pixels`);
  }
  if (width <= 0 || height <= 0) invalid(`region ${width} x ${height} must have a positive width and height`);
  return { x, y, width, height };
}

export function validTileAddress(tile: { col: number; row: number }, index: number): { col: number; row: number } {
  if (!Number.isInteger(tile.col) || !Number.isInteger(tile.row) || tile.col < 0 || tile.row < 0) {
    invalid(`tiles[${index}] (${tile.col}, ${tile.row}) must have whole, non-negative col and row`);
  }
  return { col: tile.col, row: tile.row };
}

/** Too many model tiles for one request: RESOURCE_EXHAUSTED, with what would fit. */
export function assertTileBudget(tiles: number, limits: Pick<ServingLimits, 'maxTilesPerRequest'>, what: string): void {
  if (tiles > limits.maxTilesPerRequest) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `${what} is ${tiles} model tiles; one request may cover at most ${limits.maxTilesPerRequest} (score a smaller region, or check mpp_override)`,
    );
  }
}

/** The mean-per-tile Dice grid over `region`, bounded in cells and cell size before any scoring. */
export function assertDiceGrid(region: Rect, tileWidth: number, tileHeight: number, limits: Pick<ServingLimits, 'maxDiceCells' | 'maxDiceCellPixels'>): void {
  // A cell is never larger than the region, so only the part inside it costs memory.
  const cellPixels = Math.min(tileWidth, Math.ceil(region.width)) * Math.min(tileHeight, Math.ceil(region.height));
  if (cellPixels > limits.maxDiceCellPixels) {
    throw new GlomsegError('RESOURCE_EXHAUSTED', `a Dice cell of ${tileWidth} x ${tileHeight} pixels is above ${limits.maxDiceCellPixels} pixels`);
  }
  const cells = Math.ceil(region.width / tileWidth) * Math.ceil(region.height / tileHeight);
  if (cells > limits.maxDiceCells) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `a ${tileWidth} x ${tileHeight} Dice grid over a ${Math.ceil(region.width)} x ${Math.ceil(region.height)} region has ${cells} cells; at most ${limits.maxDiceCells}`,
    );
  }
}
