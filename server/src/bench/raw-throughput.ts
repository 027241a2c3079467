/**
 * Raw model throughput, two ways, on one real tile at the served input size (tile + 2 x margin):
 * - `measureSessionRun`: a bare onnxruntime session.run in a loop, the same session options, execution provider and
 *   model file (fp16 variant on WebGPU) as the server's inference worker: the model and nothing else.
 * - `measureSegmenterPool`: the server's own OnnxSegmenter (worker threads, normalisation, sigmoid, messaging)
 *   kept busy with one more request than it has workers.
 * Throughput is counted in kept output pixels (tileSize^2 per run, the margin excluded), the same unit the
 * end-to-end figure uses, so the two compare like with like.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import { toModelInput } from '@glomseg/shared/preprocess.js';
import { sessionOptionsFor, type InferenceDevice } from '../inference/execution-providers.js';
import { toFloat16Bits } from '../inference/float16.js';
import type { OnnxSegmenter } from '../inference/onnx-segmenter.js';

export interface ThroughputFigures {
  runs: number;
  seconds: number;
  runsPerSecond: number;
  msPerRunMedian: number;
  msPerRunMean: number;
  /** Model input edge (tile + 2 x margin, rounded up to the size multiple). */
  inputSize: number;
  /** Kept output pixels per run: tileSize^2. */
  keptPixelsPerRun: number;
  /** Kept model pixels per second, in millions. */
  keptMpxPerSecond: number;
  /** CPU time this process used per second of the timed loop (all its threads): how many cores it got. */
  cpuCoresUsed: number;
}

export interface SessionRunFigures extends ThroughputFigures {
  device: InferenceDevice;
  modelFile: string;
  inputType: string;
  intraOpThreads: number;
  warmupRuns: number;
}

export function servedInputSize(card: ModelCard): number {
  return Math.ceil((card.tileSize + 2 * card.margin) / card.sizeMultiple) * card.sizeMultiple;
}

function figures(card: ModelCard, durations: number[], seconds: number, cpu: NodeJS.CpuUsage): ThroughputFigures {
  const sorted = [...durations].sort((a, b) => a - b);
  const keptPixelsPerRun = card.tileSize * card.tileSize;
  return {
    runs: durations.length,
    seconds,
    runsPerSecond: durations.length / seconds,
    msPerRunMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
    msPerRunMean: durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length),
    inputSize: servedInputSize(card),
    keptPixelsPerRun,
    keptMpxPerSecond: (keptPixelsPerRun * durations.length) / seconds / 1e6,
    cpuCoresUsed: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

export async function measureSessionRun(options: {
  card: ModelCard;
  modelPath: string;
  device: InferenceDevice;
  intraOpThreads: number;
  image: RgbImage;
  iterations: number;
  /** Keep running past `iterations` until this much time has passed (default 0). */
  minSeconds?: number;
  warmup?: number;
  signal?: AbortSignal;
}): Promise<SessionRunFigures> {
  const { card, image, signal } = options;
  const warmup = options.warmup ?? 3;
  // Exactly the inference workers' session options.
  const session = await InferenceSession.create(
    options.modelPath,
    sessionOptionsFor(options.device, options.intraOpThreads),
  );
  try {
    const meta = session.inputMetadata.find((m) => m.name === card.input.name);
    const half = meta?.isTensor === true && meta.type === 'float16';
    const values = toModelInput(image, card);
    const dims = card.input.layout === 'NCHW' ? [1, 3, image.height, image.width] : [1, image.height, image.width, 3];
    const input = half ? new Tensor('float16', toFloat16Bits(values), dims) : new Tensor('float32', values, dims);
    const runOnce = async (): Promise<number> => {
      const started = performance.now();
      const outputs = await session.run({ [card.input.name]: input }, [card.output.name]);
      // Reading the output back is part of a run: on a GPU it waits for the device to finish.
      void outputs[card.output.name].data;
      const ms = performance.now() - started;
      outputs[card.output.name].dispose();
      return ms;
    };
    for (let i = 0; i < warmup; i++) {
      throwIfAborted(signal);
      await runOnce();
    }
    const durations: number[] = [];
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const minMs = (options.minSeconds ?? 0) * 1000;
    while (durations.length < options.iterations || performance.now() - started < minMs) {
      throwIfAborted(signal);
      durations.push(await runOnce());
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      ...figures(card, durations, seconds, process.cpuUsage(cpuStart)),
      device: options.device,
      modelFile: options.modelPath,
      inputType: half ? 'float16' : 'float32',
      intraOpThreads: options.intraOpThreads,
      warmupRuns: warmup,
    };
  } finally {
    await session.release();
  }
}

export async function measureSegmenterPool(options: {
  segmenter: OnnxSegmenter;
  image: RgbImage;
  iterations: number;
  /** Keep running past `iterations` until this much time has passed (default 0). */
  minSeconds?: number;
  warmup?: number;
  signal?: AbortSignal;
}): Promise<ThroughputFigures & { workers: number }> {
  const { segmenter, image, signal } = options;
  const workers = segmenter.stats().workers;
  const warmup = options.warmup ?? workers + 3;
  const minMs = (options.minSeconds ?? 0) * 1000;
  await Promise.all(Array.from({ length: warmup }, () => segmenter.predict(image, signal)));
  const durations: number[] = [];
  let issued = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  // One more in flight than workers, so a worker never waits for the next request.
  const lane = async (): Promise<void> => {
    while (issued < options.iterations || performance.now() - started < minMs) {
      issued++;
      const t0 = performance.now();
      await segmenter.predict(image, signal);
      durations.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: workers + 1 }, lane));
  const seconds = (performance.now() - started) / 1000;
  return { ...figures(segmenter.card, durations, seconds, process.cpuUsage(cpuStart)), workers };
}
