/**
 * Scoring predicted glomeruli against ground truth, as the data README defines it: pixel Dice at level 0
 * (pooled over the region, and the mean over a fixed tile grid), and object precision / recall / F1 with
 * one-to-one matching at IoU >= 0.5. Polygons are rasterised one grid tile at a time, so memory stays bounded.
 */
import polygonClipping from 'polygon-clipping';
import type { Polygon, Rect } from './geometry.js';
import { GlomsegError, throwIfAborted } from './errors.js';
import { polygonArea, polygonBBox, rasterizePolygons, rectsTouch } from './rasterize.js';

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

export interface DiceOptions {
  tileWidth?: number;
  tileHeight?: number;
}

export const MATCH_IOU = 0.5;

/** Dice of two pixel counts and their overlap; 1 when both are empty. */
export function diceOf(intersection: number, predicted: number, truth: number): number {
  return predicted + truth === 0 ? 1 : (2 * intersection) / (predicted + truth);
}

/**
 * Scores `predicted` against `truth` inside `region` (level-0 pixels, snapped outward to whole pixels). Only
 * polygons whose bounding box meets the region take part in object matching.
 */
export function computeDiceMetrics(predicted: readonly Polygon[], truth: readonly Polygon[], region: Rect, options: DiceOptions = {}): DiceMetrics {
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

/**
 * Tile-by-tile Dice over a region's grid, usable incrementally (the plugin scores tiles as they arrive):
 * `addTile` counts one grid tile, `finish` pools what was counted and matches objects.
 */
export function createDiceAccumulator(region: Rect, options: DiceOptions = {}): DiceAccumulator {
  const tileWidth = options.tileWidth ?? 1600;
  const tileHeight = options.tileHeight ?? 1200;
  if (!(Number.isInteger(tileWidth) && tileWidth > 0 && Number.isInteger(tileHeight) && tileHeight > 0)) {
    throw new GlomsegError('INVALID_ARGUMENT', `Dice tile size must be positive whole pixels, got ${tileWidth} x ${tileHeight}`);
  }
  if (![region.x, region.y, region.width, region.height].every(Number.isFinite) || region.width <= 0 || region.height <= 0) {
    throw new GlomsegError('INVALID_ARGUMENT', `scoring region ${JSON.stringify(region)} must have a positive size`);
  }
  const x0 = Math.floor(region.x);
  const y0 = Math.floor(region.y);
  const x1 = Math.ceil(region.x + region.width);
  const y1 = Math.ceil(region.y + region.height);
  const snapped: Rect = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const cols = Math.ceil(snapped.width / tileWidth);
  const rows = Math.ceil(snapped.height / tileHeight);
  const tileCount = cols * rows;
  const counted = new Uint8Array(tileCount);
  const tileDice = new Float64Array(tileCount);
  let predictedArea = 0;
  let truthArea = 0;
  let intersectionArea = 0;
  const predBuffer = new Uint8Array(tileWidth * tileHeight);
  const truthBuffer = new Uint8Array(tileWidth * tileHeight);

  const tileRect = (index: number): Rect => {
    if (!Number.isInteger(index) || index < 0 || index >= tileCount) {
      throw new GlomsegError('INVALID_ARGUMENT', `Dice tile ${index} is outside the grid of ${tileCount} tiles`);
    }
    const col = index % cols;
    const row = (index - col) / cols;
    const x = x0 + col * tileWidth;
    const y = y0 + row * tileHeight;
    return { x, y, width: Math.min(tileWidth, x1 - x), height: Math.min(tileHeight, y1 - y) };
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
    const pred = rasterizePolygons(predicted.filter((p) => rectsTouch(boxOf(p), rect)), rect, predBuffer);
    const gt = rasterizePolygons(truth.filter((p) => rectsTouch(boxOf(p), rect)), rect, truthBuffer);
    let p = 0;
    let t = 0;
    let both = 0;
    for (let k = 0; k < pred.length; k++) {
      p += pred[k];
      t += gt[k];
      both += pred[k] & gt[k];
    }
    predictedArea += p;
    truthArea += t;
    intersectionArea += both;
    tileDice[index] = diceOf(both, p, t);
    counted[index] = 1;
  };

  return {
    region: snapped,
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
      const inRegion = (p: Polygon) => rectsTouch(boxOf(p), snapped) && polygonArea(p) > 0;
      const objects = matchObjects(predicted.filter(inRegion), truth.filter(inRegion));
      return {
        globalDice: diceOf(intersectionArea, predictedArea, truthArea),
        meanTileDice: tiles > 0 ? diceSum / tiles : 1,
        diceTileWidth: tileWidth,
        diceTileHeight: tileHeight,
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
    ...objectMatchOf(sum((m) => m.truePositives), sum((m) => m.falsePositives), sum((m) => m.falseNegatives)),
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
