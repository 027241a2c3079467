/**
 * One prediction waiting in OnnxSegmenter's queue or running on a worker: what the worker is sent, and how its caller
 * is answered exactly once (result, error, cancel or close, whichever comes first).
 */
import { cancelledError, GlomsegError } from '@glomseg/shared/errors.js';
import type { ProbabilityMap, TilePreprocess, TracedTile, TraceOptions } from '@glomseg/shared/segmenter.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import type { RunRequest } from './inference-protocol.js';

export interface Job {
  id: number;
  image: RgbImage;
  trace?: TraceOptions;
  preprocess?: TilePreprocess;
  returnProbabilities: boolean;
  /** Given the one reply shape its caller asked for (the worker answers in kind). */
  resolve: (value: ProbabilityMap | TracedTile) => void;
  reject: (error: Error) => void;
  settled: boolean;
  cleanup: () => void;
}

export interface JobRequest {
  id: number;
  image: RgbImage;
  trace: TraceOptions | undefined;
  preprocess: TilePreprocess | undefined;
  returnProbabilities: boolean;
  signal: AbortSignal | undefined;
}

/** Why an RGB image cannot be run, or undefined when it can. */
export function imageError(image: RgbImage): GlomsegError | undefined {
  if (image.width > 0 && image.height > 0 && image.data.length === image.width * image.height * 3) return undefined;
  return new GlomsegError(
    'INVALID_ARGUMENT',
    `RGB image of ${image.width} x ${image.height} holds ${image.data.length} bytes, expected ${image.width * image.height * 3}`,
  );
}

/**
 * A job whose promise settles once; an abort takes it out of `queue` when still waiting (it never runs) or drops the
 * worker's result when already running. `enqueue` is called with the job once it is built.
 */
export function createJob<T extends ProbabilityMap | TracedTile>(
  request: JobRequest,
  queue: Job[],
  enqueue: (job: Job) => void,
): Promise<T> {
  const { signal } = request;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const queuedAt = queue.indexOf(job);
      if (queuedAt >= 0) queue.splice(queuedAt, 1);
      settle(job, () => reject(cancelledError(signal)));
    };
    const job: Job = {
      id: request.id,
      image: request.image,
      trace: request.trace,
      preprocess: request.preprocess,
      returnProbabilities: request.returnProbabilities,
      resolve: (value) => resolve(value as T),
      reject,
      settled: false,
      cleanup: () => signal?.removeEventListener('abort', onAbort),
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    enqueue(job);
  });
}

/** The worker's run message and its transfer list: a copy of exactly the view's bytes (the caller keeps its buffer). */
export function runRequest(job: Job): [RunRequest, ArrayBuffer[]] {
  const data = job.image.data.slice();
  const message: RunRequest = {
    type: 'run',
    id: job.id,
    width: job.image.width,
    height: job.image.height,
    data,
    trace: job.trace,
    stain: job.preprocess?.stain,
    returnProbabilities: job.returnProbabilities,
  };
  return [message, [data.buffer as ArrayBuffer]];
}

export function settle(job: Job, action: () => void): void {
  if (job.settled) return;
  job.settled = true;
  job.cleanup();
  action();
}
