/**
 * The windows the live Dice is counted in: whole-pixel rectangles that tile the slide (one per model tile, or the
 * standard Dice squares), and their pixel counts, each replaced when counted again and summed as the CLI sums them.
 */
import { diceOf } from '@glomseg/shared/dice.js';
import { countDicePixels, type DiceGrid } from '@glomseg/shared/dice-grid.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import { tileRangeInRect, type TileGrid } from '@glomseg/shared/tile-grid.js';

/** Whole-pixel windows that tile the slide: where each is, and which of them a rectangle may meet. */
export interface WindowLayout {
  readonly count: number;
  rect(index: number): Rect;
  /** Every window the rectangle meets, and maybe a neighbour more (a recount of an unchanged window changes nothing). */
  near(rect: Rect): number[];
}

/** The standard Dice squares, as the CLI cuts the slide. */
export function squareLayout(grid: DiceGrid): WindowLayout {
  const { region, tileWidth, tileHeight, cols, tileCount } = grid;
  const rows = tileCount / cols;
  return {
    count: tileCount,
    rect: (index) => grid.tileRect(index),
    near(rect) {
      const c0 = Math.max(0, Math.floor((rect.x - region.x) / tileWidth));
      const r0 = Math.max(0, Math.floor((rect.y - region.y) / tileHeight));
      const c1 = Math.min(cols - 1, Math.floor((rect.x + rect.width - region.x) / tileWidth));
      const r1 = Math.min(rows - 1, Math.floor((rect.y + rect.height - region.y) / tileHeight));
      return indexRange(c0, r0, c1, r1, cols);
    },
  };
}

/**
 * One window per model tile: its bounds rounded to whole pixels. Rounding is monotonic, so neighbours share edges
 * and the windows of all tiles cover the slide once, for any tile size (the pooled counts are the whole slide's).
 */
export function modelTileLayout(grid: TileGrid): WindowLayout {
  const edge = (i: number, limit: number) => Math.min(limit, Math.round(i * grid.tileSizeLevel0));
  return {
    count: grid.cols * grid.rows,
    rect(index) {
      const col = index % grid.cols;
      const row = (index - col) / grid.cols;
      const x = edge(col, grid.slideWidth);
      const y = edge(row, grid.slideHeight);
      return { x, y, width: edge(col + 1, grid.slideWidth) - x, height: edge(row + 1, grid.slideHeight) - y };
    },
    near(rect) {
      const range = tileRangeInRect(grid, {
        x: rect.x - 1,
        y: rect.y - 1,
        width: rect.width + 2,
        height: rect.height + 2,
      });
      return range ? indexRange(range.c0, range.r0, range.c1, range.r1, grid.cols) : [];
    },
  };
}

function indexRange(c0: number, r0: number, c1: number, r1: number, cols: number): number[] {
  const out: number[] = [];
  for (let row = r0; row <= r1; row++) for (let col = c0; col <= c1; col++) out.push(row * cols + col);
  return out;
}

/** Pixel counts of the windows of one layout, each replaced when counted again. */
export class WindowCounts {
  readonly predicted: Float64Array;
  readonly truth: Float64Array;
  readonly intersection: Float64Array;
  readonly counted: Uint8Array;
  /** Windows owed a (re)count. */
  readonly dirty = new Set<number>();

  constructor(readonly layout: WindowLayout) {
    this.predicted = new Float64Array(layout.count);
    this.truth = new Float64Array(layout.count);
    this.intersection = new Float64Array(layout.count);
    this.counted = new Uint8Array(layout.count);
  }

  count(
    index: number,
    predicted: readonly Polygon[],
    truth: readonly Polygon[],
    scratch: { predicted: Uint8Array; truth: Uint8Array },
    boxOf: (p: Polygon) => Rect,
  ): void {
    const pixels = countDicePixels(predicted, truth, this.layout.rect(index), scratch, boxOf);
    this.predicted[index] = pixels.predicted;
    this.truth[index] = pixels.truth;
    this.intersection[index] = pixels.intersection;
    this.counted[index] = 1;
    this.dirty.delete(index);
  }
}

/** Pixel sums, area and Dice sum of the counted windows, in index order (the order the CLI sums them in). */
export function sumCounted(counts: WindowCounts): {
  predicted: number;
  truth: number;
  intersection: number;
  area: number;
  diceSum: number;
  windows: number;
} {
  const sums = { predicted: 0, truth: 0, intersection: 0, area: 0, diceSum: 0, windows: 0 };
  for (let index = 0; index < counts.layout.count; index++) {
    if (!counts.counted[index]) continue;
    const rect = counts.layout.rect(index);
    sums.area += rect.width * rect.height;
    sums.predicted += counts.predicted[index];
    sums.truth += counts.truth[index];
    sums.intersection += counts.intersection[index];
    sums.diceSum += diceOf(counts.intersection[index], counts.predicted[index], counts.truth[index]);
    sums.windows++;
  }
  return sums;
}
