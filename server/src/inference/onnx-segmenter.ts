/**
 * The Segmenter on ONNX Runtime: a FIFO queue in front of a pool of worker threads, each owning one session
 * and running one request at a time. The main thread only queues, posts and receives messages.
 */
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { cancelledError, GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type {
  ProbabilityMap,
  Segmenter,
  TilePreprocess,
  TracedTile,
  TracedTileReturns,
  TraceOptions,
} from '@glomseg/shared/segmenter.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { providersToTry, type DeviceChoice, type InferenceDevice } from './execution-providers.js';
import { probeGpu, type GpuPresence } from './gpu-presence.js';
import type { SessionCandidate, WorkerMessage } from './inference-protocol.js';
import { createJob, imageError, runRequest, settle, type Job } from './inference-job.js';
import { closeWorker, sessionError, startWorker } from './worker-lifecycle.js';
import { sessionPlan } from './session-plan.js';

export type { DeviceChoice, InferenceDevice } from './execution-providers.js';

export interface OnnxSegmenterOptions {
  card: ModelCard;
  modelPath: string;
  /** Absolute paths of the card's variants (ModelRegistry gives them); by default resolved next to modelPath. */
  variantPaths?: Record<string, string>;
  device?: DeviceChoice;
  /** Worker threads, each with its own session (default: 2 on CPU when there are 2+ cores, else 1). */
  workers?: number;
  /** ONNX Runtime intra-op threads per session (default: CPU cores / workers). */
  intraOpThreads?: number;
  logger?: (message: string) => void;
  signal?: AbortSignal;
  /** What GPU this machine has (default: probed from its device nodes and libraries). */
  gpu?: GpuPresence;
}

export interface SegmenterStats {
  queued: number;
  running: number;
  completed: number;
  failed: number;
  workers: number;
  /** Sum of session.run times of completed predictions. */
  inferenceMs: number;
}

interface Slot {
  worker: Worker;
  job?: Job;
  lastError?: Error;
}

export class OnnxSegmenter implements Segmenter {
  readonly card: ModelCard;
  readonly device: InferenceDevice;
  readonly modelPath: string;
  readonly #chosen: SessionCandidate;
  readonly #logger: (message: string) => void;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #starting = 0;
  #nextId = 1;
  #completed = 0;
  #failed = 0;
  #inferenceMs = 0;
  #disposed = false;

  private constructor(card: ModelCard, chosen: SessionCandidate, logger: (message: string) => void) {
    this.card = card;
    this.device = chosen.device;
    this.modelPath = chosen.modelPath;
    this.#chosen = chosen;
    this.#logger = logger;
  }

  static async create(options: OnnxSegmenterOptions): Promise<OnnxSegmenter> {
    const { card, modelPath, signal } = options;
    const logger = options.logger ?? (() => {});
    const choice = options.device ?? 'auto';
    const { workersFor, candidate } = sessionPlan(options);
    const gpu = options.gpu ?? probeGpu();
    const toTry = providersToTry(choice, gpu, logger);
    const candidates = toTry.map(candidate);

    // The first worker finds a device that works; the others then open that one directly.
    const first = await startWorker({ card, candidates }, signal);
    for (const failure of first.failures) {
      if (!failure.modelFault) logger(`inference: ${choice === 'auto' ? 'skipping' : 'cannot use'} ${failure.reason}`);
    }
    const chosen = first.chosen;
    if (!chosen) throw sessionError(modelPath, choice, first.failures);

    const segmenter = new OnnxSegmenter(card, chosen, logger);
    segmenter.#adopt(first.worker);
    const workers = workersFor(toTry.find((provider) => provider.name === chosen.device)!);
    const rest = await Promise.allSettled(
      Array.from({ length: workers - 1 }, () => startWorker({ card, candidates: [chosen] }, signal)),
    );
    let failure: unknown;
    for (const started of rest) {
      if (started.status === 'rejected') failure ??= started.reason;
      else if (started.value.chosen) segmenter.#adopt(started.value.worker);
      else failure ??= sessionError(modelPath, chosen.device, started.value.failures);
    }
    if (failure) {
      await segmenter.dispose();
      throw failure;
    }
    const why = choice === 'auto' ? ` (auto: first of ${candidates.map((c) => c.device).join(', ')} that works)` : '';
    logger(
      `inference: model '${card.id}' on ${segmenter.device}${why}, ${workers} worker(s) x ${chosen.intraOpThreads} intra-op thread(s), ` +
        path.basename(segmenter.modelPath),
    );
    return segmenter;
  }

  predict(image: RgbImage, signal?: AbortSignal, preprocess?: TilePreprocess): Promise<ProbabilityMap> {
    return this.#submit<ProbabilityMap>(image, undefined, signal, preprocess);
  }

  predictPolygons(
    image: RgbImage,
    trace: TraceOptions,
    signal?: AbortSignal,
    preprocess?: TilePreprocess,
    returns?: TracedTileReturns,
  ): Promise<TracedTile> {
    return this.#submit<TracedTile>(image, trace, signal, preprocess, returns?.probabilities ?? true);
  }

  #submit<T extends ProbabilityMap | TracedTile>(
    image: RgbImage,
    trace: TraceOptions | undefined,
    signal?: AbortSignal,
    preprocess?: TilePreprocess,
    returnProbabilities = true,
  ): Promise<T> {
    if (this.#disposed)
      return Promise.reject(new GlomsegError('UNAVAILABLE', `the segmenter for model '${this.card.id}' is closed`));
    if (signal?.aborted) return Promise.reject(cancelledError(signal));
    const invalid = imageError(image);
    if (invalid) return Promise.reject(invalid);
    const request = { id: this.#nextId++, image, trace, preprocess, returnProbabilities, signal };
    return createJob<T>(request, this.#queue, (job) => {
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  stats(): SegmenterStats {
    let running = 0;
    for (const slot of this.#slots) if (slot.job) running++;
    return {
      queued: this.#queue.length,
      running,
      completed: this.#completed,
      failed: this.#failed,
      workers: this.#slots.size,
      inferenceMs: this.#inferenceMs,
    };
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const closed = new GlomsegError('CANCELLED', `the segmenter for model '${this.card.id}' was closed`);
    for (const job of this.#queue.splice(0)) settle(job, () => job.reject(closed));
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) if (slot.job) settle(slot.job, () => slot.job!.reject(closed));
    await Promise.all(slots.map((slot) => closeWorker(slot.worker)));
  }

  /** For tests: kills a worker (a busy one if any) abruptly, the way a native crash would end it. */
  async killWorkerForTest(): Promise<void> {
    const slots = [...this.#slots];
    const slot = slots.find((s) => s.job) ?? slots[0];
    await slot?.worker.terminate();
  }

  #adopt(worker: Worker): void {
    const slot: Slot = { worker };
    worker.on('message', (message: WorkerMessage) => this.#onMessage(slot, message));
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => this.#onExit(slot, code));
    worker.unref();
    this.#slots.add(slot);
    this.#dispatch();
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.job) continue;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a pending prediction keeps the process alive; an idle pool does not
      // Move the copy of the tile's bytes, not clone it.
      const [message, transfer] = runRequest(job);
      slot.worker.postMessage(message, transfer);
    }
    if (this.#queue.length > 0 && this.#slots.size === 0 && this.#starting === 0) {
      const error = new GlomsegError('UNAVAILABLE', `no inference worker is running for model '${this.card.id}'`);
      for (const job of this.#queue.splice(0)) settle(job, () => job.reject(error));
    }
  }

  #onMessage(slot: Slot, message: WorkerMessage): void {
    if (message.type !== 'result' && message.type !== 'polygons' && message.type !== 'error') return;
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    if (job && job.id === message.id) {
      if (message.type === 'result') {
        this.#completed++;
        this.#inferenceMs += message.runMs;
        settle(job, () => job.resolve({ width: message.width, height: message.height, data: message.data }));
      } else if (message.type === 'polygons') {
        this.#completed++;
        this.#inferenceMs += message.runMs;
        const traced: TracedTile = {
          polygons: message.polygons,
          probabilities: message.probabilities,
          inferenceMs: message.runMs,
          postprocessMs: message.postprocessMs,
          tissueFraction: message.tissueFraction,
        };
        settle(job, () => job.resolve(traced));
      } else {
        this.#failed++;
        settle(job, () => job.reject(new GlomsegError(message.code, message.message)));
      }
    }
    this.#dispatch();
  }

  #onExit(slot: Slot, code: number): void {
    if (this.#disposed || !this.#slots.delete(slot)) return;
    const cause = slot.lastError?.message ?? `exit code ${code}`;
    this.#logger(
      `inference: a worker for model '${this.card.id}' on ${this.device} stopped (${cause}); starting another`,
    );
    const job = slot.job;
    if (job) {
      this.#failed++;
      settle(job, () =>
        job.reject(
          new GlomsegError('INTERNAL', `the inference worker crashed while running model '${this.card.id}' (${cause})`),
        ),
      );
    }
    this.#replaceWorker();
  }

  #replaceWorker(): void {
    this.#starting++;
    startWorker({ card: this.card, candidates: [this.#chosen] })
      .then(async (started) => {
        if (this.#disposed) {
          await started.worker.terminate();
        } else if (started.chosen) {
          this.#adopt(started.worker);
        } else {
          this.#logger(`inference: could not restart a worker: ${started.failures.map((f) => f.reason).join('; ')}`);
        }
      })
      .catch((error: Error) => this.#logger(`inference: could not restart a worker: ${error.message}`))
      .finally(() => {
        this.#starting--;
        if (!this.#disposed) this.#dispatch();
      });
  }
}
