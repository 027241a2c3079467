/**
 * Live scoring for the Dice panel, with the same shared code as `glomseg score`: pixel Dice over the model tiles
 * received so far (each counted once, as it arrives), mean per-tile Dice over the standard 1600 x 1200 grid
 * (a grid tile counts once every model tile covering it has arrived), and object precision / recall / F1 at
 * IoU >= 0.5 with each prediction and annotation classed as true positive, false positive or missed.
 */
import { createDiceAccumulator, matchObjectPairs, type DiceAccumulator, type DiceMetrics } from '@glomseg/shared/dice.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import { tileBounds, tileKey, tilesInRect, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';

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
  predictedClasses: PredictionClass[];
  truthClasses: TruthClass[];
}

export const DICE_TILE = { width: 1600, height: 1200 };

export class LiveDiceScorer {
  private readonly grid: TileGrid;
  private readonly truth: readonly Polygon[];
  private readonly truthCentres: Array<{ x: number; y: number }>;
  private readonly pixels: DiceAccumulator;
  private readonly pixelCols: number;
  private readonly perTile: DiceAccumulator;
  private readonly scored = new Set<string>();
  private areaScored = 0;

  constructor(grid: TileGrid, truth: readonly Polygon[]) {
    this.grid = grid;
    this.truth = truth;
    this.truthCentres = truth.map((polygon) => {
      const box = polygonBBox(polygon);
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    });
    const slide: Rect = { x: 0, y: 0, width: grid.slideWidth, height: grid.slideHeight };
    // Pixel Dice on the model grid itself, so "the area predicted so far" is exactly the tiles received.
    const tileEdge = Math.max(1, Math.round(grid.tileSizeLevel0));
    this.pixels = createDiceAccumulator(slide, { tileWidth: tileEdge, tileHeight: tileEdge });
    this.pixelCols = Math.ceil(grid.slideWidth / tileEdge);
    this.perTile = createDiceAccumulator(slide, { tileWidth: DICE_TILE.width, tileHeight: DICE_TILE.height });
  }

  /** Model tiles scored so far. */
  get tilesScored(): number {
    return this.scored.size;
  }

  /** Scores one received model tile; `predicted` is every prediction drawn so far (pieces joined). */
  addTile(tile: TileAddress, predicted: readonly Polygon[]): void {
    const key = tileKey(tile);
    if (this.scored.has(key)) return;
    this.scored.add(key);
    const index = tile.row * this.pixelCols + tile.col;
    if (tile.col < this.pixelCols && index < this.pixels.tileCount) {
      this.pixels.addTile(index, predicted, this.truth);
      const rect = this.pixels.tileRect(index);
      this.areaScored += rect.width * rect.height;
    }
    const bounds = tileBounds(this.grid, tile);
    for (const diceIndex of this.diceTilesIn(bounds)) {
      const diceRect = this.perTile.tileRect(diceIndex);
      if (tilesInRect(this.grid, diceRect).every((t) => this.scored.has(tileKey(t)))) this.perTile.addTile(diceIndex, predicted, this.truth);
    }
  }

  /** Metrics over the area scored so far; annotations count for object matching once their centre is scored. */
  result(predicted: readonly Polygon[]): LiveDiceResult {
    const inScope = this.truth.map((_, i) => this.isScored(this.truthCentres[i]));
    const scopedTruth = this.truth.filter((_, i) => inScope[i]);
    const pixelMetrics = this.pixels.finish(predicted, scopedTruth);
    const tileMetrics = this.perTile.finish([], []);
    const pairs = matchObjectPairs(predicted, scopedTruth);
    const predictedClasses: PredictionClass[] = predicted.map(() => 'false-positive');
    const scopedClasses: TruthClass[] = scopedTruth.map(() => 'missed');
    for (const pair of pairs) {
      predictedClasses[pair.predicted] = 'true-positive';
      scopedClasses[pair.truth] = 'true-positive';
    }
    let next = 0;
    const truthClasses: TruthClass[] = inScope.map((scored) => (scored ? scopedClasses[next++] : 'unscored'));
    return {
      metrics: {
        ...pixelMetrics,
        meanTileDice: tileMetrics.meanTileDice,
        diceTileWidth: tileMetrics.diceTileWidth,
        diceTileHeight: tileMetrics.diceTileHeight,
        diceTiles: tileMetrics.diceTiles,
        tilesScored: this.scored.size,
        tilesTotal: this.grid.cols * this.grid.rows,
        areaScored: this.areaScored,
      },
      predictedClasses,
      truthClasses,
    };
  }

  private isScored(point: { x: number; y: number }): boolean {
    const col = Math.floor(point.x / this.grid.tileSizeLevel0);
    const row = Math.floor(point.y / this.grid.tileSizeLevel0);
    return this.scored.has(tileKey({ col, row }));
  }

  private diceTilesIn(rect: Rect): number[] {
    const cols = Math.ceil(this.grid.slideWidth / DICE_TILE.width);
    const c0 = Math.floor(rect.x / DICE_TILE.width);
    const r0 = Math.floor(rect.y / DICE_TILE.height);
    const c1 = Math.min(cols - 1, Math.ceil((rect.x + rect.width) / DICE_TILE.width) - 1);
    const r1 = Math.ceil((rect.y + rect.height) / DICE_TILE.height) - 1;
    const indices: number[] = [];
    for (let row = r0; row <= r1; row++) for (let col = c0; col <= c1; col++) {
      const index = row * cols + col;
      if (index < this.perTile.tileCount) indices.push(index);
    }
    return indices;
  }
}

export function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '–';
}
