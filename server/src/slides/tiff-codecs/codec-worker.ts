/**
 * A worker of geotiff's decoder pool (decoder-pool.ts): geotiff's own worker knows only geotiff's codecs, so ours
 * imports every registered codec and answers geotiff's messages the way geotiff's worker does.
 */
import { parentPort } from 'node:worker_threads';
import { getDecoder } from 'geotiff';
import './index.js';

interface DecodeJob {
  compression: number;
  decoderParameters: Parameters<typeof getDecoder>[1];
  buffer: ArrayBuffer;
  jobId: number;
}

parentPort!.on('message', async ({ compression, decoderParameters, buffer, ...extra }: DecodeJob) => {
  try {
    const decoder = await getDecoder(compression, decoderParameters);
    const decoded = (await decoder.decode(buffer)) as ArrayBuffer;
    parentPort!.postMessage({ decoded, ...extra }, [decoded]);
  } catch (error) {
    parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error), ...extra });
  }
});
