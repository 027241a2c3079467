/** The bench's raw figures: the server's segmenter pool, then one bare session.run with every core. */
import os from 'node:os';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import type { RegisteredModel } from '../inference/model-registry.js';
import { OnnxSegmenter } from '../inference/onnx-segmenter.js';
import type { DeviceChoice } from '../inference/execution-providers.js';
import { measureSegmenterPool, measureSessionRun, servedInputSize } from './raw-throughput.js';
import { log } from './bench-log.js';

export async function measureRawPhase(
  model: RegisteredModel,
  tileImage: RgbImage,
  options: { device: DeviceChoice; workers?: number; quick: boolean; rawIterations?: number },
) {
  const { card } = model;
  const cores = os.availableParallelism();
  const iterations = options.rawIterations ?? (options.quick ? 10 : 40);
  const minSeconds = options.rawIterations ? 0 : options.quick ? 3 : 10; // small models: enough runs to time
  // The server's own defaults (OnnxSegmenter: 2 single-thread workers on a multi-core CPU, 1 on a GPU) unless --workers.
  const segmenter = await OnnxSegmenter.create({
    card,
    modelPath: model.modelPath,
    variantPaths: model.variantPaths,
    device: options.device,
    workers: options.workers,
    logger: log,
  });
  const serverWorkers = segmenter.stats().workers;
  const intraOpThreads = Math.max(1, Math.floor(cores / serverWorkers)); // as OnnxSegmenter and GlomsegApp split the cores
  log(
    `raw: model '${card.id}' on ${segmenter.device}: the server's pool of ${serverWorkers} worker(s) x ${intraOpThreads} thread(s), then session.run with ${cores} thread(s); ${iterations}+ runs of ${servedInputSize(card)}^2`,
  );
  let pool;
  try {
    pool = await measureSegmenterPool({ segmenter, image: tileImage, iterations, minSeconds });
  } finally {
    await segmenter.dispose();
  }
  const measureRaw = () =>
    // One session with every core: the most the bare model does on this machine, whatever the server's worker split.
    measureSessionRun({
      card,
      modelPath: segmenter.modelPath,
      device: segmenter.device,
      intraOpThreads: cores,
      image: tileImage,
      iterations,
      minSeconds,
    });
  const sessionRun = await measureRaw();
  log(
    `raw session.run: ${sessionRun.msPerRunMedian.toFixed(1)} ms/run, ${sessionRun.keptMpxPerSecond.toFixed(3)} kept Mpx/s; segmenter pool ${pool.keptMpxPerSecond.toFixed(3)} Mpx/s`,
  );
  return {
    pool,
    sessionRun,
    measureRaw,
    serverWorkers,
    intraOpThreads,
    device: segmenter.device,
    modelPath: segmenter.modelPath,
  };
}

export type RawPhase = Awaited<ReturnType<typeof measureRawPhase>>;
