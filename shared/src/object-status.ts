/**
 * Each polygon's part in the object metrics: the same objects (objectsInRegion) and the same one-to-one IoU >= 0.5
 * matching (matchObjectPairs) as computeDiceMetrics, so the counts of each status equal its truePositives,
 * falsePositives and falseNegatives.
 */
import type { Polygon, Rect } from './geometry.js';
import { matchObjectPairs, objectsInRegion } from './dice.js';

/** 'outside': not counted (its box misses the scored region, or it has no area). */
export type PredictionStatus = 'true-positive' | 'false-positive' | 'outside';
export type TruthStatus = 'true-positive' | 'missed' | 'outside';

export interface ObjectStatuses {
  predicted: PredictionStatus[];
  truth: TruthStatus[];
  /** For a matched prediction, the index of its truth (and the IoU); undefined otherwise. */
  matchOf: Array<{ truth: number; iou: number } | undefined>;
}

export function objectStatuses(predicted: readonly Polygon[], truth: readonly Polygon[], region: Rect): ObjectStatuses {
  const predIn = objectsInRegion(predicted, region);
  const truthIn = objectsInRegion(truth, region);
  const predIndex = new Map(predIn.map((p, i) => [p, i] as const));
  const truthIndex = new Map(truthIn.map((t, i) => [t, i] as const));
  const pairs = matchObjectPairs(predIn, truthIn);
  const predPair = new Map(pairs.map((pair) => [pair.predicted, pair] as const));
  const truthMatched = new Set(pairs.map((pair) => pair.truth));
  const truthPosition = new Map(truth.map((t, i) => [t, i] as const));
  const matchOf: ObjectStatuses['matchOf'] = [];
  const predictedStatus = predicted.map((p, i): PredictionStatus => {
    const k = predIndex.get(p);
    if (k === undefined) return 'outside';
    const pair = predPair.get(k);
    if (!pair) return 'false-positive';
    matchOf[i] = { truth: truthPosition.get(truthIn[pair.truth])!, iou: pair.iou };
    return 'true-positive';
  });
  const truthStatus = truth.map((t): TruthStatus => {
    const k = truthIndex.get(t);
    return k === undefined ? 'outside' : truthMatched.has(k) ? 'true-positive' : 'missed';
  });
  return { predicted: predictedStatus, truth: truthStatus, matchOf };
}
