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
import { diceGrid, type DiceGrid } from '@glomseg/shared/dice-grid.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import { tileBounds, tileKey, tilesInRect, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import type { PredictionChange } from '../prediction-store.js';
import { WindowCounts, modelTileLayout, squareLayout, sumCounted } from './dice-windows.js';

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

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

export function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '–';
}
