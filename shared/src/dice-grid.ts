/**
 * The pixel side of Dice: a scoring region snapped to whole pixels and cut into a grid of Dice tiles, and the pixel
 * counts of one window. `computeDiceMetrics` (the CLI, ScoreSlide) and the plugin's live scorer both count with these.
 */
import type { Polygon, Rect } from './geometry.js';
import { DICE_TILE } from './constants.js';
import { GlomsegError } from './errors.js';
import { polygonBBox, rasterizePolygons, rectsTouch } from './rasterize.js';

export interface DiceOptions {
  tileWidth?: number;
  tileHeight?: number;
}

/** A region snapped outward to whole pixels and cut into a grid of Dice tiles (the last column and row clipped). */
export interface DiceGrid {
  readonly region: Rect;
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly cols: number;
  readonly tileCount: number;
  /** The pixels of one grid tile (index in row-major grid order). */
  tileRect(index: number): Rect;
}

export function diceGrid(region: Rect, options: DiceOptions = {}): DiceGrid {
  const tileWidth = options.tileWidth ?? DICE_TILE.tileWidth;
  const tileHeight = options.tileHeight ?? DICE_TILE.tileHeight;
  if (!(Number.isInteger(tileWidth) && tileWidth > 0 && Number.isInteger(tileHeight) && tileHeight > 0)) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `Dice tile size must be positive whole pixels, got ${tileWidth} x ${tileHeight}`,
    );
  }
  if (
    ![region.x, region.y, region.width, region.height].every(Number.isFinite) ||
    region.width <= 0 ||
    region.height <= 0
  ) {
    throw new GlomsegError('INVALID_ARGUMENT', `scoring region ${JSON.stringify(region)} must have a positive size`);
  }
  const x0 = Math.floor(region.x);
  const y0 = Math.floor(region.y);
  const x1 = Math.ceil(region.x + region.width);
  const y1 = Math.ceil(region.y + region.height);
  const cols = Math.ceil((x1 - x0) / tileWidth);
  const tileCount = cols * Math.ceil((y1 - y0) / tileHeight);
  return {
    region: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
    tileWidth,
    tileHeight,
    cols,
    tileCount,
    tileRect(index) {
      if (!Number.isInteger(index) || index < 0 || index >= tileCount) {
        throw new GlomsegError('INVALID_ARGUMENT', `Dice tile ${index} is outside the grid of ${tileCount} tiles`);
      }
      const col = index % cols;
      const row = (index - col) / cols;
      const x = x0 + col * tileWidth;
      const y = y0 + row * tileHeight;
      return { x, y, width: Math.min(tileWidth, x1 - x), height: Math.min(tileHeight, y1 - y) };
    },
  };
}

/** Pixels (by their centres) inside the predicted polygons, inside the true ones, and inside both, in one window. */
export interface DicePixels {
  predicted: number;
  truth: number;
  intersection: number;
}

/**
 * Counts one whole-pixel window: every Dice figure is made of these counts. `scratch` (two masks of at least the
 * window's size) saves allocating them per window; `boxOf` may cache polygon boxes.
 */
export function countDicePixels(
  predicted: readonly Polygon[],
  truth: readonly Polygon[],
  window: Rect,
  scratch?: { predicted: Uint8Array; truth: Uint8Array },
  boxOf: (polygon: Polygon) => Rect = polygonBBox,
): DicePixels {
  const pred = rasterizePolygons(
    predicted.filter((p) => rectsTouch(boxOf(p), window)),
    window,
    scratch?.predicted,
  );
  const gt = rasterizePolygons(
    truth.filter((p) => rectsTouch(boxOf(p), window)),
    window,
    scratch?.truth,
  );
  let p = 0;
  let t = 0;
  let both = 0;
  for (let k = 0; k < pred.length; k++) {
    p += pred[k];
    t += gt[k];
    both += pred[k] & gt[k];
  }
  return { predicted: p, truth: t, intersection: both };
}
