/**
 * A scoring worker: reads ground truth (GeoJSON, labelme, RLE: cost bounds, classes, the slide's bounds, outlines
 * repaired), rasterises and computes Dice and object matching. Runs in a piscina thread so the serving thread never
 * does this CPU work.
 */
import { computeDiceMetrics } from '@glomseg/shared/dice.js';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import { readGroundTruth, type GroundTruth } from '@glomseg/shared/ground-truth.js';
import type { TruthInput } from '@glomseg/shared/glomseg-service.js';
import type { ScoringResult, ScoringTask } from './scoring-protocol.js';

function readTruth(truth: TruthInput): GroundTruth {
  return readGroundTruth(truth.content, {
    format: truth.format,
    name: truth.name,
    width: truth.width,
    height: truth.height,
    classes: truth.classes,
    budget: truth.budget,
  });
}

export default function score(task: ScoringTask): ScoringResult {
  task.started?.postMessage('started');
  task.started?.close();
  try {
    const { polygons, vertices, warnings } = readTruth(task.truth);
    if (task.kind === 'check') return { ok: true, kind: 'check', polygons: polygons.length, vertices, warnings };
    const metrics = computeDiceMetrics(task.predicted, polygons, task.region, {
      tileWidth: task.tileWidth,
      tileHeight: task.tileHeight,
    });
    return { ok: true, kind: 'dice', metrics };
  } catch (error) {
    if (isGlomsegError(error)) return { ok: false, code: error.code, message: error.message };
    // RangeError and the like on hostile input: still the client's input, not our state; say so plainly.
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: `the annotations cannot be scored: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
