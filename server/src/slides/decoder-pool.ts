/**
 * geotiff's worker pool for the codecs decoded in JavaScript or wasm (deflate, LZW, packbits, zstd, LERC, JPEG
 * 2000...): those run off the serving thread, in our workers (tiff-codecs/codec-worker.ts), which know every
 * registered codec. One pool per process, held while any TIFF slide is open and ended with the last one,
 * so an idle process (a finished CLI run, a test) is not kept alive by its workers. Sources take it on their first
 * block that geotiff decodes (a JPEG slide, decoded by sharp, needs none), and each worker starts on its first job.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Pool } from 'geotiff';

const CODEC_WORKER = new URL('./tiff-codecs/codec-worker-bootstrap.js', import.meta.url);

/**
 * One worker of the pool, as geotiff's pool talks to workers (the Web Worker calls it uses) over a Node worker
 * thread, started on its first job. A thread that dies (a decoder crashed it) fails its jobs instead of leaving
 * them waiting, and the next job starts a new one.
 */
class CodecWorker {
  private thread?: Worker;
  private readonly pending = new Set<number>();
  private listener?: (event: { data: unknown }) => void;

  addEventListener(_type: 'message', listener: (event: { data: unknown }) => void): void {
    this.listener = listener;
  }

  postMessage(message: { jobId: number }, transfer?: Transferable[]): void {
    this.pending.add(message.jobId);
    this.started().postMessage(message, transfer as never);
  }

  terminate(): void {
    const thread = this.thread;
    this.thread = undefined;
    void thread?.terminate();
  }

  private started(): Worker {
    if (this.thread) return this.thread;
    // workerData set: geotiff's web-worker shim, loaded in this thread too, reads it and, without `mod`, stays inert.
    const thread = new Worker(CODEC_WORKER, { execArgv: process.execArgv, workerData: {} });
    thread.on('message', (data: { jobId: number }) => {
      this.pending.delete(data.jobId);
      this.listener?.({ data });
    });
    thread.on('error', (error) => this.stopped(thread, error.message));
    thread.on('exit', (code) => this.stopped(thread, `it exited with code ${code}`));
    return (this.thread = thread);
  }

  private stopped(thread: Worker, why: string): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    for (const jobId of this.pending)
      this.listener?.({ data: { jobId, error: `the TIFF decoder thread stopped: ${why}` } });
    this.pending.clear();
  }
}

let pool: Pool | undefined;
let holders = 0;

export function acquireDecoderPool(): Pool {
  holders++;
  pool ??= new Pool(
    Math.max(1, Math.min(2, os.availableParallelism())),
    () => new CodecWorker() as unknown as globalThis.Worker,
  );
  return pool;
}

export function releaseDecoderPool(): void {
  holders = Math.max(0, holders - 1);
  if (holders === 0 && pool) {
    pool.destroy();
    pool = undefined;
  }
}

/** Whether the pool's workers are running (the pool exists only while some source holds it). */
export function decoderPoolRunning(): boolean {
  return pool !== undefined;
}
