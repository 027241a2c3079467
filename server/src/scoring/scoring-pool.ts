/**
 * Ground-truth parsing and Dice in worker threads (piscina), off the serving thread. Each task has a CPU budget:
 * past it, or when the caller's signal fires, piscina ends the worker thread running it, so no task outlives
 * its request. One async factory, one close().
 */
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { GlomsegError, cancelledError } from '@glomseg/shared/errors.js';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import type { TruthCheck, TruthInput } from '@glomseg/shared/glomseg-service.js';
import type { ScoringResult, ScoringTask } from './scoring-protocol.js';

export interface ScoringPoolOptions {
  /** Threads at most; default 1 (the inference workers need the other cores). */
  threads?: number;
  /** CPU budget of one task in ms. */
  maxTaskMs: number;
}

const WORKER = fileURLToPath(new URL('./scoring-worker-bootstrap.js', import.meta.url));

export class ScoringPool {
  private constructor(
    private readonly pool: Piscina,
    private readonly maxTaskMs: number,
  ) {}

  static async create(options: ScoringPoolOptions): Promise<ScoringPool> {
    // Threads start on demand and leave when idle, so an idle process holds none.
    const pool = new Piscina({
      filename: WORKER,
      minThreads: 0,
      maxThreads: options.threads ?? 1,
      idleTimeout: 30_000,
    });
    return new ScoringPool(pool, options.maxTaskMs);
  }

  /**
   * Reads the truth as scoring will (cost bounds, classes, the slide's bounds, repairs): the coded error a bad or
   * oversized truth deserves, or what will be scored and the warnings to pass on.
   */
  async checkAnnotations(truth: TruthInput, signal: AbortSignal): Promise<TruthCheck> {
    const result = await this.run({ kind: 'check', truth }, signal);
    if (result.kind !== 'check') throw new GlomsegError('INTERNAL', 'the scoring worker answered the wrong task');
    return { polygons: result.polygons, vertices: result.vertices, warnings: result.warnings };
  }

  async scoreDice(
    truth: TruthInput,
    predicted: Polygon[],
    region: Rect,
    tile: { tileWidth: number; tileHeight: number },
    signal: AbortSignal,
  ): Promise<DiceMetrics> {
    const result = await this.run({ kind: 'dice', truth, predicted, region, ...tile }, signal);
    if (result.kind !== 'dice') throw new GlomsegError('INTERNAL', 'the scoring worker answered the wrong task');
    return result.metrics;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async run(task: ScoringTask, signal: AbortSignal): Promise<Extract<ScoringResult, { ok: true }>> {
    // The budget is the task's own run time: it starts when a worker takes the task, so a wait in the queue or a
    // thread starting on a busy machine never counts against it.
    const deadline = new AbortController();
    const { port1, port2 } = new MessageChannel();
    let timer: NodeJS.Timeout | undefined;
    port1.once('message', () => {
      timer = setTimeout(() => deadline.abort(), this.maxTaskMs);
      port1.close();
    });
    let result: ScoringResult;
    try {
      result = await this.pool.run(
        { ...task, started: port2 },
        { signal: AbortSignal.any([signal, deadline.signal]), transferList: [port2] },
      );
    } catch (error) {
      if (signal.aborted) throw cancelledError(signal);
      if (deadline.signal.aborted) {
        throw new GlomsegError(
          'DEADLINE_EXCEEDED',
          `scoring the annotations took longer than ${this.maxTaskMs / 1000} s and was stopped (fewer or simpler polygons, or a coarser Dice grid)`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      port1.close();
    }
    if (!result.ok) throw new GlomsegError(result.code, result.message);
    return result;
  }
}
