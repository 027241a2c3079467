/**
 * Live Dice for the overlay, counted with the same shared code as `glomseg score` (diceGrid, countDicePixels,
 * matchObjectPairs): pixel Dice over the model tiles received so far, the mean Dice of the standard 1600 x 1200
 * squares that every covering model tile has reached, and object precision / recall / F1 at IoU >= 0.5.
 *
 * Counts are kept per window and replaced, never added to: a window is scored again whenever the joined polygons
 * over it change (a later neighbour joins a glomerulus across a border). So once every tile is in, the figures are
 * those of the final joined polygons, whatever order the tiles came in: the CLI's, exactly.
 */
import {
  diceOf,
  matchObjectPairs,
  objectMatchOf,
  objectsInRegion,
  type DiceMetrics,
  type ObjectMatch,
} from '@glomseg/shared/dice.js';
import { countDicePixels, diceGrid, type DiceGrid } from '@glomseg/shared/dice-grid.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import {
  tileBounds,
  tileKey,
  tileRangeInRect,
  tilesInRect,
  type TileAddress,
  type TileGrid,
} from '@glomseg/shared/tile-grid.js';
import type { PredictionChange } from '../prediction-store.js';

export interface LiveDiceMetrics extends DiceMetrics {
  /** Model tiles scored so far, of all tiles on the slide. */
  tilesScored: number;
  tilesTotal: number;
  /** Level-0 square pixels scored so far. */
  areaScored: number;
}

export type PredictionClass = 'true-positive' | 'false-positive';
/** 'unscored': the annotation lies outside the area predicted so far. */
export type TruthClass = 'true-positive' | 'missed' | 'unscored';

export interface LiveDiceResult {
  metrics: LiveDiceMetrics;
  /** One per predicted polygon given to `result`, in its order. */
  predictedClasses: PredictionClass[];
  truthClasses: TruthClass[];
}

/** Whole-pixel windows that tile the slide: where each is, and which of them a rectangle may meet. */
interface WindowLayout {
  readonly count: number;
  rect(index: number): Rect;
  /** Every window the rectangle meets, and maybe a neighbour more (a recount of an unchanged window changes nothing). */
  near(rect: Rect): number[];
}

/** The standard Dice squares, as the CLI cuts the slide. */
function squareLayout(grid: DiceGrid): WindowLayout {
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
function modelTileLayout(grid: TileGrid): WindowLayout {
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
class WindowCounts {
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

export class LiveDiceScorer {
  /** One pixel window per model tile, so "the area predicted so far" is exactly the tiles received. */
  private readonly pixels: WindowCounts;
  /** The standard Dice squares (the CLI's grid), each counted once every model tile over it has arrived. */
  private readonly squares: WindowCounts;
  private readonly squareGrid: DiceGrid;
  private readonly received = new Set<string>();
  private readonly truthCentres: Array<{ x: number; y: number }>;
  private readonly truthInRegion: boolean[];
  private readonly scratch: { predicted: Uint8Array; truth: Uint8Array };
  private readonly boxes = new WeakMap<Polygon, Rect>();

  constructor(
    private readonly grid: TileGrid,
    private readonly truth: readonly Polygon[],
  ) {
    this.squareGrid = diceGrid({ x: 0, y: 0, width: grid.slideWidth, height: grid.slideHeight });
    this.pixels = new WindowCounts(modelTileLayout(grid));
    this.squares = new WindowCounts(squareLayout(this.squareGrid));
    const edge = Math.ceil(grid.tileSizeLevel0) + 1;
    const largest = Math.max(edge * edge, this.squareGrid.tileWidth * this.squareGrid.tileHeight);
    this.scratch = { predicted: new Uint8Array(largest), truth: new Uint8Array(largest) };
    const inRegion = new Set(objectsInRegion(truth, this.squareGrid.region));
    this.truthInRegion = truth.map((polygon) => inRegion.has(polygon));
    this.truthCentres = truth.map((polygon) => {
      const box = this.boxOf(polygon);
      // Clamped onto the slide: a shape partly off it is scored once the tile under its on-slide part is.
      return {
        x: clamp(box.x + box.width / 2, 0, grid.slideWidth - 1),
        y: clamp(box.y + box.height / 2, 0, grid.slideHeight - 1),
      };
    });
  }

  /** Model tiles received, each counted once. */
  get tilesScored(): number {
    return this.received.size;
  }

  /** Whether some window is owed a count. */
  get pending(): boolean {
    return this.pixels.dirty.size > 0 || this.squares.dirty.size > 0;
  }

  /** A model tile arrived: its pixels, and the squares it completes, are owed a count. */
  addTile(tile: TileAddress): void {
    const key = tileKey(tile);
    if (this.received.has(key) || tile.col >= this.grid.cols || tile.row >= this.grid.rows) return;
    this.received.add(key);
    this.pixels.dirty.add(tile.row * this.grid.cols + tile.col);
    for (const square of this.squares.layout.near(tileBounds(this.grid, tile))) {
      if (!this.squares.counted[square] && this.squareComplete(square)) this.squares.dirty.add(square);
    }
  }

  /** The joined polygons changed: every counted window under what was drawn or taken away is counted again. */
  predictionsChanged(change: PredictionChange): void {
    for (const { polygon } of [...change.added, ...change.removed]) {
      const box = this.boxOf(polygon);
      for (const counts of [this.pixels, this.squares]) {
        for (const index of counts.layout.near(box)) if (counts.counted[index]) counts.dirty.add(index);
      }
    }
  }

  /**
   * Counts owed windows against the predictions drawn now, while `goOn()` allows (the overlay scores in slices
   * between frames); true when nothing is owed any more.
   */
  score(predicted: readonly Polygon[], goOn: () => boolean = () => true): boolean {
    const boxOf = (polygon: Polygon) => this.boxOf(polygon);
    for (const counts of [this.pixels, this.squares]) {
      for (const index of counts.dirty) {
        if (!goOn()) return false;
        counts.count(index, predicted, this.truth, this.scratch, boxOf);
      }
    }
    return true;
  }

  /** Metrics of the windows counted so far; annotations take part in matching once the tile under their centre is in. */
  result(predicted: readonly Polygon[]): LiveDiceResult {
    const pixels = sumCounted(this.pixels);
    const squares = sumCounted(this.squares);
    const objects = this.matchObjects(predicted);
    return {
      metrics: {
        globalDice: diceOf(pixels.intersection, pixels.predicted, pixels.truth),
        meanTileDice: squares.windows > 0 ? squares.diceSum / squares.windows : 1,
        diceTileWidth: this.squareGrid.tileWidth,
        diceTileHeight: this.squareGrid.tileHeight,
        diceTiles: squares.windows,
        ...objects.match,
        predictedArea: pixels.predicted,
        truthArea: pixels.truth,
        intersectionArea: pixels.intersection,
        tilesScored: this.received.size,
        tilesTotal: this.grid.cols * this.grid.rows,
        areaScored: pixels.area,
      },
      predictedClasses: objects.predictedClasses,
      truthClasses: objects.truthClasses,
    };
  }

  /** Matching as the CLI does it (objectsInRegion, matchObjectPairs), over the annotations scored so far. */
  private matchObjects(predicted: readonly Polygon[]): {
    match: ObjectMatch;
    predictedClasses: PredictionClass[];
    truthClasses: TruthClass[];
  } {
    const truthScoped = this.truth.map((_, i) => this.truthInRegion[i] && this.centreScored(this.truthCentres[i]));
    const truthIndex = truthScoped.flatMap((scoped, i) => (scoped ? [i] : []));
    const inRegion = new Set(objectsInRegion(predicted, this.squareGrid.region));
    const predictedIndex = predicted.flatMap((polygon, i) => (inRegion.has(polygon) ? [i] : []));
    const pairs = matchObjectPairs(
      predictedIndex.map((i) => predicted[i]),
      truthIndex.map((i) => this.truth[i]),
    );
    const predictedClasses: PredictionClass[] = predicted.map(() => 'false-positive');
    const truthClasses: TruthClass[] = truthScoped.map((scoped) => (scoped ? 'missed' : 'unscored'));
    for (const pair of pairs) {
      predictedClasses[predictedIndex[pair.predicted]] = 'true-positive';
      truthClasses[truthIndex[pair.truth]] = 'true-positive';
    }
    const match = objectMatchOf(pairs.length, predictedIndex.length - pairs.length, truthIndex.length - pairs.length);
    return { match, predictedClasses, truthClasses };
  }

  private squareComplete(square: number): boolean {
    return tilesInRect(this.grid, this.squareGrid.tileRect(square)).every((tile) => this.received.has(tileKey(tile)));
  }

  private centreScored(point: { x: number; y: number }): boolean {
    const col = Math.floor(point.x / this.grid.tileSizeLevel0);
    const row = Math.floor(point.y / this.grid.tileSizeLevel0);
    return this.received.has(tileKey({ col, row }));
  }

  private boxOf(polygon: Polygon): Rect {
    let box = this.boxes.get(polygon);
    if (!box) this.boxes.set(polygon, (box = polygonBBox(polygon)));
    return box;
  }
}

/** Pixel sums, area and Dice sum of the counted windows, in index order (the order the CLI sums them in). */
function sumCounted(counts: WindowCounts): {
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

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

export function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '–';
}
