/**
 * Scoring predicted glomeruli against ground truth, as the data README defines it: pixel Dice at level 0
 * (pooled over the region, and the mean over a fixed tile grid), and object precision / recall / F1 with
 * one-to-one matching at IoU >= 0.5. Polygons are rasterised one grid tile at a time, so memory stays bounded.
 */
import polygonClipping from 'polygon-clipping';
import type { Polygon, Rect } from './geometry.js';
import { GlomsegError, throwIfAborted } from './errors.js';
import { polygonArea, polygonBBox, rasterizePolygons, rectsTouch } from './rasterize.js';
import { countDicePixels, diceGrid, type DiceOptions } from './dice-grid.js';

/** Pixel Dice over a region plus the object metrics of `ObjectMatch` (its `truthCount`: true polygons whose box meets the region). */
export interface DiceMetrics extends ObjectMatch {
  /** 2|X∩Y| / (|X| + |Y|) over the whole region; 1 when both are empty. */
  globalDice: number;
  /** Mean of per-tile Dice over the grid; a tile with neither prediction nor truth counts 1. */
  meanTileDice: number;
  diceTileWidth: number;
  diceTileHeight: number;
  diceTiles: number;
  /** Pixel counts inside the region. */
  predictedArea: number;
  truthArea: number;
  intersectionArea: number;
}

export type { DiceOptions } from './dice-grid.js';

export const MATCH_IOU = 0.5;

/** Dice of two pixel counts and their overlap; 1 when both are empty. */
export function diceOf(intersection: number, predicted: number, truth: number): number {
  return predicted + truth === 0 ? 1 : (2 * intersection) / (predicted + truth);
}

/**
 * Scores `predicted` against `truth` inside `region` (level-0 pixels, snapped outward to whole pixels). Only
 * polygons whose bounding box meets the region take part in object matching.
 */
export function computeDiceMetrics(
  predicted: readonly Polygon[],
  truth: readonly Polygon[],
  region: Rect,
  options: DiceOptions = {},
): DiceMetrics {
  const accumulator = createDiceAccumulator(region, options);
  accumulator.addPixels(predicted, truth);
  return accumulator.finish(predicted, truth);
}

export interface DiceAccumulator {
  readonly region: Rect;
  /** Counts every grid tile not yet counted; throws CANCELLED between tiles when the signal fires. */
  addPixels(predicted: readonly Polygon[], truth: readonly Polygon[], signal?: AbortSignal): void;
  /** Counts one grid tile (index in row-major grid order); a tile is counted at most once. */
  addTile(index: number, predicted: readonly Polygon[], truth: readonly Polygon[]): void;
  readonly tileCount: number;
  tileRect(index: number): Rect;
  /** Pixel metrics over the tiles counted so far plus object metrics over all given polygons. */
  finish(predicted: readonly Polygon[], truth: readonly Polygon[]): DiceMetrics;
}

/** The polygons that take part in object matching over a region: those with area whose box meets it. */
export function objectsInRegion<P extends Polygon>(polygons: readonly P[], region: Rect): P[] {
  return polygons.filter((p) => rectsTouch(polygonBBox(p), region) && polygonArea(p) > 0);
}

/**
 * Tile-by-tile Dice over a region's grid: `addTile` counts one grid tile, `finish` pools what was counted and
 * matches objects. (The plugin's live scorer counts windows with `countDicePixels` on the same `diceGrid`.)
 */
export function createDiceAccumulator(region: Rect, options: DiceOptions = {}): DiceAccumulator {
  const grid = diceGrid(region, options);
  const { tileCount, tileRect } = grid;
  const counted = new Uint8Array(tileCount);
  const tileDice = new Float64Array(tileCount);
  let predictedArea = 0;
  let truthArea = 0;
  let intersectionArea = 0;
  const scratch = {
    predicted: new Uint8Array(grid.tileWidth * grid.tileHeight),
    truth: new Uint8Array(grid.tileWidth * grid.tileHeight),
  };

  // Boxes are looked up once per tile per polygon: cache them by polygon identity.
  const boxes = new WeakMap<Polygon, Rect>();
  const boxOf = (p: Polygon): Rect => {
    let box = boxes.get(p);
    if (!box) boxes.set(p, (box = polygonBBox(p)));
    return box;
  };

  const addTile = (index: number, predicted: readonly Polygon[], truth: readonly Polygon[]): void => {
    const rect = tileRect(index);
    if (counted[index]) return;
    const pixels = countDicePixels(predicted, truth, rect, scratch, boxOf);
    predictedArea += pixels.predicted;
    truthArea += pixels.truth;
    intersectionArea += pixels.intersection;
    tileDice[index] = diceOf(pixels.intersection, pixels.predicted, pixels.truth);
    counted[index] = 1;
  };

  return {
    region: grid.region,
    tileCount,
    tileRect,
    addTile,
    addPixels(predicted, truth, signal) {
      for (let index = 0; index < tileCount; index++) {
        throwIfAborted(signal);
        addTile(index, predicted, truth);
      }
    },
    finish(predicted, truth) {
      let diceSum = 0;
      let tiles = 0;
      for (let index = 0; index < tileCount; index++) {
        if (!counted[index]) continue;
        diceSum += tileDice[index];
        tiles++;
      }
      const objects = matchObjects(objectsInRegion(predicted, grid.region), objectsInRegion(truth, grid.region));
      return {
        globalDice: diceOf(intersectionArea, predictedArea, truthArea),
        meanTileDice: tiles > 0 ? diceSum / tiles : 1,
        diceTileWidth: grid.tileWidth,
        diceTileHeight: grid.tileHeight,
        diceTiles: tiles,
        ...objects,
        predictedArea,
        truthArea,
        intersectionArea,
      };
    },
  };
}

export interface ObjectMatch {
  precision: number;
  recall: number;
  f1: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  truthCount: number;
}

/** Intersection over union of two polygons (exact, by polygon clipping). */
export function polygonIoU(a: Polygon, b: Polygon): number {
  const ringsA = [a.exterior, ...a.holes];
  const ringsB = [b.exterior, ...b.holes];
  const areaA = polygonArea(a);
  const areaB = polygonArea(b);
  let intersection = 0;
  try {
    for (const rings of polygonClipping.intersection(ringsA, ringsB)) {
      intersection += polygonArea({ exterior: rings[0], holes: rings.slice(1) });
    }
  } catch {
    return rasterIoU(a, b); // polygon-clipping gives up on some self-intersecting rings: count pixels instead
  }
  const union = areaA + areaB - intersection;
  return union > 0 ? intersection / union : 0;
}

/** One matched pair: indices into the predicted and true polygon lists. */
export interface ObjectPair {
  predicted: number;
  truth: number;
  iou: number;
}

/** IoU by pixel-centre rasterisation over the two polygons' joint bounding box. */
function rasterIoU(a: Polygon, b: Polygon): number {
  const boxA = polygonBBox(a);
  const boxB = polygonBBox(b);
  const x = Math.floor(Math.min(boxA.x, boxB.x));
  const y = Math.floor(Math.min(boxA.y, boxB.y));
  const window = {
    x,
    y,
    width: Math.ceil(Math.max(boxA.x + boxA.width, boxB.x + boxB.width)) - x,
    height: Math.ceil(Math.max(boxA.y + boxA.height, boxB.y + boxB.height)) - y,
  };
  const maskA = rasterizePolygons([a], window);
  const maskB = rasterizePolygons([b], window);
  let both = 0;
  let either = 0;
  for (let k = 0; k < maskA.length; k++) {
    both += maskA[k] & maskB[k];
    either += maskA[k] | maskB[k];
  }
  return either > 0 ? both / either : 0;
}

/** A matched prediction and truth, as indices into the lists given. */
export interface ObjectPair {
  predicted: number;
  truth: number;
  iou: number;
}

/**
 * One-to-one matching at IoU >= 0.5: candidate pairs come from overlapping boxes, and pairs are taken greedily
 * from the highest IoU down.
 */
export function matchObjectPairs(predicted: readonly Polygon[], truth: readonly Polygon[]): ObjectPair[] {
  const predBoxes = predicted.map(polygonBBox);
  const truthBoxes = truth.map(polygonBBox);
  const candidates: ObjectPair[] = [];
  for (let p = 0; p < predicted.length; p++) {
    for (let t = 0; t < truth.length; t++) {
      if (!rectsTouch(predBoxes[p], truthBoxes[t])) continue;
      const iou = polygonIoU(predicted[p], truth[t]);
      if (iou >= MATCH_IOU) candidates.push({ predicted: p, truth: t, iou });
    }
  }
  candidates.sort((a, b) => b.iou - a.iou);
  const predUsed = new Uint8Array(predicted.length);
  const truthUsed = new Uint8Array(truth.length);
  const pairs: ObjectPair[] = [];
  for (const pair of candidates) {
    if (predUsed[pair.predicted] || truthUsed[pair.truth]) continue;
    predUsed[pair.predicted] = truthUsed[pair.truth] = 1;
    pairs.push(pair);
  }
  return pairs;
}

/** Object counts from one-to-one matching: an unmatched prediction is a false positive, an unmatched truth a false negative. */
export function matchObjects(predicted: readonly Polygon[], truth: readonly Polygon[]): ObjectMatch {
  const truePositives = matchObjectPairs(predicted, truth).length;
  return objectMatchOf(truePositives, predicted.length - truePositives, truth.length - truePositives);
}

/** Precision, recall and F1 of object counts. */
export function objectMatchOf(truePositives: number, falsePositives: number, falseNegatives: number): ObjectMatch {
  const predicted = truePositives + falsePositives;
  const truth = truePositives + falseNegatives;
  // With nothing to find and nothing found, the result is perfect; otherwise an empty side scores 0.
  const nothing = predicted === 0 && truth === 0;
  const precision = nothing ? 1 : predicted > 0 ? truePositives / predicted : 0;
  const recall = nothing ? 1 : truth > 0 ? truePositives / truth : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, truePositives, falsePositives, falseNegatives, truthCount: truth };
}

/**
 * The metrics of several slides scored as one set: pixel counts and object counts are summed (so global Dice and
 * F1 are pooled, not averaged), and the mean tile Dice is the mean over every grid tile of every slide. The Dice
 * tile size is the first slide's (slides of one batch share it).
 */
export function poolDiceMetrics(all: readonly DiceMetrics[]): DiceMetrics {
  if (all.length === 0) throw new GlomsegError('INVALID_ARGUMENT', 'no metrics to pool');
  const sum = (pick: (m: DiceMetrics) => number) => all.reduce((total, m) => total + pick(m), 0);
  const predictedArea = sum((m) => m.predictedArea);
  const truthArea = sum((m) => m.truthArea);
  const intersectionArea = sum((m) => m.intersectionArea);
  const diceTiles = sum((m) => m.diceTiles);
  return {
    ...objectMatchOf(
      sum((m) => m.truePositives),
      sum((m) => m.falsePositives),
      sum((m) => m.falseNegatives),
    ),
    globalDice: diceOf(intersectionArea, predictedArea, truthArea),
    meanTileDice: diceTiles > 0 ? sum((m) => m.meanTileDice * m.diceTiles) / diceTiles : 1,
    diceTileWidth: all[0].diceTileWidth,
    diceTileHeight: all[0].diceTileHeight,
    diceTiles,
    predictedArea,
    truthArea,
    intersectionArea,
  };
}
