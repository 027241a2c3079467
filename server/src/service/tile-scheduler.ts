/**
 * A bounded queue of tile jobs shared by all streams. Jobs run in the order submitted, at most `concurrency`
 * at once. A job asked for by several streams at once runs once (keyed); it is dropped from the queue, or its
 * run aborted, only when every stream that asked for it has cancelled.
 */
import { GlomsegError, cancelledError } from '@glomseg/shared/errors.js';

type JobRunner<T> = (signal: AbortSignal) => Promise<T>;

interface Waiter<T> {
  resolve: (value: T, queueMs: number) => void;
  reject: (error: unknown) => void;
}

interface Job<T> {
  key: string;
  run: JobRunner<T>;
  waiters: Set<Waiter<T>>;
  controller: AbortController;
  state: 'queued' | 'running';
  queuedAt: number;
}

export interface SchedulerStats {
  queued: number;
  running: number;
  completed: number;
  deduplicated: number;
  droppedQueued: number;
  abortedRunning: number;
  failed: number;
}

export interface SchedulerOptions {
  concurrency: number;
  /** Jobs waiting beyond this are refused with RESOURCE_EXHAUSTED. */
  maxQueued: number;
  /** What the jobs are, in that refusal (default 'tiles'). */
  what?: string;
}

export class TileScheduler<T> {
  private readonly queue: Job<T>[] = [];
  private readonly jobs = new Map<string, Job<T>>();
  private running = 0;
  private closed = false;
  private readonly counters = { completed: 0, deduplicated: 0, droppedQueued: 0, abortedRunning: 0, failed: 0 };

  constructor(private readonly options: SchedulerOptions) {
    if (options.concurrency < 1) throw new RangeError('concurrency must be at least 1');
  }

  /** Runs `run` for `key` (or joins the job already queued or running for it) and resolves with its result. */
  submit(key: string, run: JobRunner<T>, signal: AbortSignal): Promise<{ value: T; queueMs: number }> {
    if (this.closed) return Promise.reject(new GlomsegError('UNAVAILABLE', 'the server is shutting down'));
    if (signal.aborted) return Promise.reject(cancelledError(signal));
    let job = this.jobs.get(key);
    if (job) {
      this.counters.deduplicated++;
    } else {
      if (this.queue.length >= this.options.maxQueued) {
        return Promise.reject(
          new GlomsegError(
            'RESOURCE_EXHAUSTED',
            `the server is busy: ${this.queue.length} ${this.options.what ?? 'tiles'} are already waiting; try again shortly`,
          ),
        );
      }
      job = {
        key,
        run,
        waiters: new Set(),
        controller: new AbortController(),
        state: 'queued',
        queuedAt: performance.now(),
      };
      this.jobs.set(key, job);
      this.queue.push(job);
    }
    const theJob = job;
    return new Promise<{ value: T; queueMs: number }>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve: (value, queueMs) => {
          signal.removeEventListener('abort', onAbort);
          resolve({ value, queueMs });
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        theJob.waiters.delete(waiter);
        reject(cancelledError(signal));
        if (theJob.waiters.size === 0) this.abandon(theJob);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      theJob.waiters.add(waiter);
      this.pump();
    });
  }

  stats(): SchedulerStats {
    return { queued: this.queue.length, running: this.running, ...this.counters };
  }

  /** Refuses new work and aborts everything queued or running. */
  close(): void {
    this.closed = true;
    for (const job of [...this.jobs.values()]) {
      const error = new GlomsegError('UNAVAILABLE', 'the server is shutting down');
      for (const w of job.waiters) w.reject(error);
      job.waiters.clear();
      this.abandon(job);
    }
  }

  /** No stream wants this job any more: drop it from the queue, or abort its run. */
  private abandon(job: Job<T>): void {
    if (job.state === 'queued') {
      const index = this.queue.indexOf(job);
      if (index >= 0) this.queue.splice(index, 1);
      this.jobs.delete(job.key);
      this.counters.droppedQueued++;
    } else {
      this.jobs.delete(job.key);
      this.counters.abortedRunning++;
      job.controller.abort(new GlomsegError('CANCELLED', 'every stream that asked for this tile was cancelled'));
    }
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      job.state = 'running';
      this.running++;
      const queueMs = performance.now() - job.queuedAt;
      job
        .run(job.controller.signal)
        .then(
          (value) => {
            this.counters.completed++;
            for (const w of job.waiters) w.resolve(value, queueMs);
          },
          (error) => {
            if (!job.controller.signal.aborted) this.counters.failed++;
            for (const w of job.waiters) w.reject(error);
          },
        )
        .finally(() => {
          this.running--;
          if (this.jobs.get(job.key) === job) this.jobs.delete(job.key);
          this.pump();
        });
    }
  }
}
