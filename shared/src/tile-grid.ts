/**
 * Tile-grid arithmetic: how a model's tiles cover a slide. A model works at `scale` level-0 pixels per model
 * pixel; tile (col, row) covers level-0 [col * T * scale, (col + 1) * T * scale) x ... clipped to the slide,
 * where T is the model's tile size. Each tile is read with a context margin on every side; only its centre is kept.
 */
import type { Rect } from './geometry.js';
import type { ModelCard } from './model-card.js';
import type { SlideMetadata } from './slide-source.js';
import { GlomsegError } from './errors.js';

export interface TileAddress {
  col: number;
  row: number;
}

export interface TileGrid {
  slideId: string;
  modelId: string;
  /** Level-0 pixels per model pixel. */
  scale: number;
  /** Pyramid level read from (the coarsest level not coarser than `scale`). */
  level: number;
  levelDownsample: number;
  /** Tile edge in model pixels, and in level-0 pixels. */
  tileSize: number;
  tileSizeLevel0: number;
  margin: number;
  sizeMultiple: number;
  cols: number;
  rows: number;
  slideWidth: number;
  slideHeight: number;
  /** Level-0 micrometres per pixel that the scale assumes, and where that came from. */
  mppAssumed: number;
  mppSource: 'file' | 'request' | 'estimated' | 'model-default';
  /** For an estimated pixel size: 0 to 1, how clearly the image chose it. */
  mppConfidence?: number;
}

/** What to read for one tile: a window of `level` (inside the slide unless the slide is tiny), resized to model pixels. */
export interface TileReadWindow {
  level: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Model-pixel size of the window, margin included; a multiple of the model's size multiple. */
  modelWidth: number;
  modelHeight: number;
  /** Where the kept centre sits inside the model-pixel window, and its size (smaller at slide edges). */
  keepX: number;
  keepY: number;
  keepWidth: number;
  keepHeight: number;
}

const SCALE_TOLERANCE = 1e-3;

/** The model's tile grid on a slide; `mppOverride` comes checked (api/src/server/request-fields.ts, MPP_RANGE). */
export function planTileGrid(
  slide: SlideMetadata,
  card: ModelCard,
  options: { mppOverride?: number; mppEstimate?: { mpp: number; confidence: number }; tileSize?: number } = {},
): TileGrid {
  const modelMpp = card.mpp;
  const trainingBaseMpp =
    card.mpp !== undefined && card.downsample !== undefined ? card.mpp / card.downsample : undefined;
  let mppAssumed: number;
  let mppSource: TileGrid['mppSource'];
  if (options.mppOverride) {
    mppAssumed = options.mppOverride;
    mppSource = 'request';
  } else if (slide.mppX && slide.mppX > 0) {
    mppAssumed = slide.mppX;
    mppSource = 'file';
  } else if (options.mppEstimate && options.mppEstimate.mpp > 0) {
    // Only when neither the request nor the file says: an estimate from the image beats a guess.
    mppAssumed = options.mppEstimate.mpp;
    mppSource = 'estimated';
  } else {
    mppAssumed = trainingBaseMpp ?? 0;
    mppSource = 'model-default';
  }
  let scale: number;
  if (modelMpp !== undefined && mppAssumed > 0) scale = modelMpp / mppAssumed;
  else if (card.downsample !== undefined) scale = card.downsample;
  else if (modelMpp !== undefined) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `slide ${slide.id} does not state its pixel size and model ${card.id} gives no downsample to fall back on: pass an mpp override`,
    );
  } else throw new GlomsegError('FAILED_PRECONDITION', `model ${card.id} states neither mpp nor downsample`);
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new GlomsegError('FAILED_PRECONDITION', `cannot work out the scale of model ${card.id} on slide ${slide.id}`);
  }
  // Coarsest level whose downsample does not exceed the model scale: resampling only ever shrinks.
  // (Tracks the chosen level itself, not an array position: `index` need not equal the position in `levels`.)
  let chosen = slide.levels.find((l) => l.index === 0) ?? slide.levels[0];
  if (!chosen) throw new GlomsegError('FAILED_PRECONDITION', `slide ${slide.id} has no pyramid levels`);
  for (const l of slide.levels) {
    if (l.downsample <= scale * (1 + SCALE_TOLERANCE) && l.downsample > chosen.downsample) chosen = l;
  }
  const level = chosen.index;
  const tileSize = options.tileSize ?? card.tileSize;
  const tileSizeLevel0 = tileSize * scale;
  return {
    slideId: slide.id,
    modelId: card.id,
    scale,
    level,
    levelDownsample: chosen.downsample,
    tileSize,
    tileSizeLevel0,
    margin: card.margin,
    sizeMultiple: card.sizeMultiple,
    cols: Math.max(1, Math.ceil(slide.width / tileSizeLevel0 - 1e-9)),
    rows: Math.max(1, Math.ceil(slide.height / tileSizeLevel0 - 1e-9)),
    slideWidth: slide.width,
    slideHeight: slide.height,
    mppAssumed,
    mppSource,
    ...(mppSource === 'estimated' ? { mppConfidence: options.mppEstimate!.confidence } : {}),
  };
}

/** The tile edge a whole-slide score works in: the operator's choice, else the card's, else the card's tile size. */
export function scoreTileSizeOf(card: ModelCard, chosen?: number): number {
  return chosen ?? card.scoreTileSize ?? card.tileSize;
}

/**
 * The card's minimum glomerulus area in level-0 square pixels of this slide. The card counts it in level-0 pixels
 * of its training data (model pixels x downsample), so a slide scanned finer or coarser scales it by the ratio of
 * the slide's model scale to the training one: the same physical area everywhere.
 */
export function minAreaOnSlide(card: ModelCard, grid: TileGrid): number {
  const minArea = card.minArea ?? 0;
  if (card.downsample === undefined) return minArea;
  return minArea * (grid.scale / card.downsample) ** 2;
}

export function tileKey(tile: TileAddress): string {
  return `${tile.col},${tile.row}`;
}

export function assertTileInGrid(grid: TileGrid, tile: TileAddress): void {
  if (
    !Number.isInteger(tile.col) ||
    !Number.isInteger(tile.row) ||
    tile.col < 0 ||
    tile.row < 0 ||
    tile.col >= grid.cols ||
    tile.row >= grid.rows
  ) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `tile (col ${tile.col}, row ${tile.row}) is outside the model grid of ${grid.cols} x ${grid.rows} tiles for slide ${grid.slideId}`,
    );
  }
}

/** The level-0 region a tile covers, clipped to the slide. */
export function tileBounds(grid: TileGrid, tile: TileAddress): Rect {
  const x0 = tile.col * grid.tileSizeLevel0;
  const y0 = tile.row * grid.tileSizeLevel0;
  const x1 = Math.min(grid.slideWidth, x0 + grid.tileSizeLevel0);
  const y1 = Math.min(grid.slideHeight, y0 + grid.tileSizeLevel0);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function roundUpTo(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/**
 * The window to read for a tile: the tile plus its margin, sized to the model's size multiple. At a slide edge the
 * window stops at the edge and reaches further inward instead: the model learnt what a tissue edge looks like at the
 * edge of its training crops, and invented context (white, a mirror image, a flat colour) each cost validation Dice.
 * Only a slide smaller than one size multiple reads past its edge.
 */
export function tileReadWindow(grid: TileGrid, tile: TileAddress): TileReadWindow {
  const bounds = tileBounds(grid, tile);
  const keepWidth = Math.max(1, Math.round(bounds.width / grid.scale));
  const keepHeight = Math.max(1, Math.round(bounds.height / grid.scale));
  const across = placeWindowAxis(
    tile.col * grid.tileSize,
    keepWidth,
    grid.margin,
    Math.round(grid.slideWidth / grid.scale),
    grid.sizeMultiple,
  );
  const down = placeWindowAxis(
    tile.row * grid.tileSize,
    keepHeight,
    grid.margin,
    Math.round(grid.slideHeight / grid.scale),
    grid.sizeMultiple,
  );
  const factor = grid.scale / grid.levelDownsample; // level pixels per model pixel
  return {
    level: grid.level,
    x: Math.round(across.origin * factor),
    y: Math.round(down.origin * factor),
    width: Math.round(across.size * factor),
    height: Math.round(down.size * factor),
    modelWidth: across.size,
    modelHeight: down.size,
    keepX: across.keepOffset,
    keepY: down.keepOffset,
    keepWidth,
    keepHeight,
  };
}

/** One axis of a read window, in model pixels: the kept span plus margins, inside [0, extent) where it fits. */
function placeWindowAxis(keepStart: number, keep: number, margin: number, extent: number, multiple: number) {
  const lo = Math.max(0, keepStart - margin);
  const hi = Math.min(Math.max(extent, keepStart + keep), keepStart + keep + margin);
  const size = roundUpTo(hi - lo, multiple);
  const origin = Math.max(0, Math.min(lo, extent - size));
  return { origin, size, keepOffset: keepStart - origin };
}

/** Tiles whose bounds intersect a level-0 rectangle, nearest the rectangle's centre first. */
/** The inclusive column and row range of the tiles that meet `rect` (clipped to the slide), or undefined for none. */
export function tileRangeInRect(
  grid: TileGrid,
  rect: Rect,
): { c0: number; r0: number; c1: number; r1: number } | undefined {
  // Clip to the slide first: the last column and row of tiles are clipped to it too.
  const x0 = Math.max(0, rect.x);
  const y0 = Math.max(0, rect.y);
  const x1 = Math.min(grid.slideWidth, rect.x + rect.width);
  const y1 = Math.min(grid.slideHeight, rect.y + rect.height);
  if (!(x1 > x0 && y1 > y0)) return undefined;
  return {
    c0: Math.floor(x0 / grid.tileSizeLevel0),
    r0: Math.floor(y0 / grid.tileSizeLevel0),
    c1: Math.min(grid.cols - 1, Math.ceil(x1 / grid.tileSizeLevel0) - 1),
    r1: Math.min(grid.rows - 1, Math.ceil(y1 / grid.tileSizeLevel0) - 1),
  };
}

/** How many tiles meet `rect`, without listing them (a cost check before any work). */
export function countTilesInRect(grid: TileGrid, rect: Rect): number {
  const range = tileRangeInRect(grid, rect);
  return range ? (range.c1 - range.c0 + 1) * (range.r1 - range.r0 + 1) : 0;
}

export function tilesInRect(grid: TileGrid, rect: Rect): TileAddress[] {
  const range = tileRangeInRect(grid, rect);
  if (!range) return [];
  const tiles: TileAddress[] = [];
  for (let row = range.r0; row <= range.r1; row++)
    for (let col = range.c0; col <= range.c1; col++) tiles.push({ col, row });
  return orderCentreFirst(grid, tiles, { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 });
}

/** Sorts tiles by the distance of their centre from a level-0 point (stable for ties). */
export function orderCentreFirst(
  grid: TileGrid,
  tiles: TileAddress[],
  centre: { x: number; y: number },
): TileAddress[] {
  const half = grid.tileSizeLevel0 / 2;
  const distance = (t: TileAddress) =>
    Math.hypot(t.col * grid.tileSizeLevel0 + half - centre.x, t.row * grid.tileSizeLevel0 + half - centre.y);
  return tiles
    .map((tile, index) => ({ tile, index, d: distance(tile) }))
    .sort((a, b) => a.d - b.d || a.index - b.index)
    .map((entry) => entry.tile);
}
