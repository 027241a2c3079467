/**
 * geotiff's worker pool for the codecs it decodes in JavaScript (deflate, LZW, packbits, zstd...): those run
 * off the serving thread. One pool per process, held while any TIFF slide is open and ended with the last one,
 * so an idle process (a finished CLI run, a test) is not kept alive by its workers. Sources take it on their first
 * block that geotiff decodes: geotiff starts every worker at once, and a JPEG slide (decoded by sharp) needs none.
 */
import os from 'node:os';
import { Pool } from 'geotiff';

let pool: Pool | undefined;
let holders = 0;

export function acquireDecoderPool(): Pool {
  holders++;
  pool ??= new Pool(Math.max(1, Math.min(2, os.availableParallelism())));
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
