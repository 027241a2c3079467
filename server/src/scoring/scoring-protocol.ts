/** Messages between the serving thread and the scoring workers (structured-clone safe: plain data only). */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '@glomseg/shared/errors.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { TruthInput } from '@glomseg/shared/glomseg-service.js';

/** Told when a worker starts the task: its time budget counts from then, not from the queue or a thread's start. */
interface TaskStart {
  started?: MessagePort;
}

export type ScoringTask = TaskStart &
  (
    | { kind: 'check'; truth: TruthInput }
    | { kind: 'dice'; truth: TruthInput; predicted: Polygon[]; region: Rect; tileWidth: number; tileHeight: number }
  );

export type ScoringResult =
  | { ok: true; kind: 'check'; polygons: number; vertices: number; warnings: string[] }
  | { ok: true; kind: 'dice'; metrics: DiceMetrics }
  // Coded errors cross the thread boundary as data: structured clone drops an Error's own fields.
  | { ok: false; code: ErrorCode; message: string };
