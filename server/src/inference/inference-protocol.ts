/** Messages between OnnxSegmenter (main thread) and its inference workers. */
import type { ErrorCode } from '@glomseg/shared/errors.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type { TraceOptions } from '@glomseg/shared/segmenter.js';
import type { StainMapping } from '@glomseg/shared/stain-normalization.js';
import type { InferenceSession } from 'onnxruntime-node';
import type { InferenceDevice } from './execution-providers.js';

/** One way to start a session; a worker tries its candidates in order and keeps the first that works. */
export interface SessionCandidate {
  device: InferenceDevice;
  modelPath: string;
  intraOpThreads: number;
  /** The session's options, resolved on the main thread (a worker holds no registry): sessionOptionsFor. */
  sessionOptions: InferenceSession.SessionOptions;
}

export interface WorkerInit {
  card: ModelCard;
  candidates: SessionCandidate[];
}

export interface SessionFailure {
  device: InferenceDevice;
  /** Person-readable reason (from the worker: ONNX Runtime's own message, until the main thread explains it). */
  reason: string;
  /** The model file itself is bad: no other device will do better. */
  modelFault: boolean;
}

export interface RunRequest {
  type: 'run';
  id: number;
  width: number;
  height: number;
  /** Interleaved RGB, transferred. */
  data: Uint8Array;
  /** When set, the worker traces polygons and answers with them instead of the probability map. */
  trace?: TraceOptions;
  /** When set, the worker maps the tile's colours to the model's reference stain first. */
  stain?: StainMapping;
  /** With `trace`: false when the probabilities are not wanted back with the polygons. */
  returnProbabilities?: boolean;
}

/** Finish the run in flight, release the session, exit. */
export interface CloseRequest {
  type: 'close';
}

export type WorkerMessage =
  | { type: 'ready'; chosen: SessionCandidate; failures: SessionFailure[] }
  | { type: 'init-failed'; failures: SessionFailure[] }
  | { type: 'result'; id: number; width: number; height: number; data: Float32Array; runMs: number }
  | {
      type: 'polygons';
      id: number;
      polygons: GlomerulusPolygon[];
      probabilities?: { width: number; height: number; data: Float32Array };
      runMs: number;
      postprocessMs: number;
      tissueFraction: number;
    }
  | { type: 'error'; id: number; code: ErrorCode; message: string };
