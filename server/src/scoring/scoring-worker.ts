/**
 * A scoring worker: parses ground truth (GeoJSON, labelme, RLE), checks its cost bounds, rasterises and computes
 * Dice and object matching. Runs in a piscina thread so the serving thread never does this CPU work.
 */
import { parseAnnotations } from '@glomseg/shared/annotations.js';
import { assertAnnotationBudget } from '@glomseg/shared/annotation-budget.js';
import { computeDiceMetrics } from '@glomseg/shared/dice.js';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import type { Polygon } from '@glomseg/shared/geometry.js';
import type { TruthInput } from '@glomseg/shared/glomseg-service.js';
import type { ScoringResult, ScoringTask } from './scoring-protocol.js';

function parseTruth(truth: TruthInput): { polygons: Polygon[]; vertices: number } {
  const polygons = parseAnnotations(truth.content, { format: truth.format, name: truth.name, width: truth.width, height: truth.height });
  return { polygons, vertices: assertAnnotationBudget(polygons, truth.budget).vertices };
}

export default function score(task: ScoringTask): ScoringResult {
  task.started?.postMessage('started');
  task.started?.close();
  try {
    const { polygons, vertices } = parseTruth(task.truth);
    if (task.kind === 'check') return { ok: true, kind: 'check', polygons: polygons.length, vertices };
    const metrics = computeDiceMetrics(task.predicted, polygons, task.region, { tileWidth: task.tileWidth, tileHeight: task.tileHeight });
    return { ok: true, kind: 'dice', metrics };
  } catch (error) {
    if (isGlomsegError(error)) return { ok: false, code: error.code, message: error.message };
    // RangeError and the like on hostile input: still the client's input, not our state; say so plainly.
    return { ok: false, code: 'INVALID_ARGUMENT', message: `the annotations cannot be scored: ${error instanceof Error ? error.message : String(error)}` };
  }
}
