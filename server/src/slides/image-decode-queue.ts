/**
 * The queue of flat-image decodes. sharp decodes a PNG/JPEG slide on one of libuv's threads and holds it until the
 * decode ends (seconds for a 196-Mpixel PNG); those few threads (UV_THREADPOOL_SIZE, 4 by default) also serve every
 * fs call of the process. Six such decodes at once left every file read, and so every tile of every slide and each
 * ListSlides, waiting behind them. Flat-image decodes run here, at most FLAT_DECODE_CONCURRENCY at once, so the
 * rest of the pool stays free for file reads (and the short JPEG tile decodes, which do not queue).
 */
import { TileScheduler, type SchedulerStats } from '../service/tile-scheduler.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';

/** libuv's thread pool size (its default is 4). */
const UV_THREADS = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);
/** Flat-image decodes at once: half of libuv's pool, at least one; the other half is left to file reads. */
export const FLAT_DECODE_CONCURRENCY = Math.max(1, Math.floor(UV_THREADS / 2));
/** Decodes waiting beyond this are refused (RESOURCE_EXHAUSTED): each may hold hundreds of MB once it runs. */
const MAX_QUEUED_DECODES = 256;

const never = new AbortController().signal;

export class ImageDecodeQueue {
  private readonly scheduler: TileScheduler<RgbImage>;

  constructor(concurrency = FLAT_DECODE_CONCURRENCY, maxQueued = MAX_QUEUED_DECODES) {
    this.scheduler = new TileScheduler<RgbImage>({ concurrency, maxQueued, what: 'image decodes' });
  }

  /**
   * Runs `decode` when a place is free; callers asking for the same `key` at once share one decode. A caller that
   * aborts stops waiting; a queued decode nobody waits for any more is dropped.
   */
  async run(
    key: string,
    decode: (signal: AbortSignal) => Promise<RgbImage>,
    signal: AbortSignal = never,
  ): Promise<RgbImage> {
    return (await this.scheduler.submit(key, decode, signal)).value;
  }

  stats(): SchedulerStats {
    return this.scheduler.stats();
  }
}

/** The process's one queue: every flat-image source decodes through it. */
export const flatImageDecodes = new ImageDecodeQueue();
