/**
 * One inference worker thread: owns one InferenceSession and runs one request at a time, so the blocking
 * session.run never stalls the server's event loop (and WebGPU never sees two concurrent runs on a session).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { GlomsegError, isGlomsegError } from '@glomseg/shared/errors.js';
import { cropProbability, tileModelInput, toProbabilityMap } from '@glomseg/shared/preprocess.js';
import { traceTile } from '@glomseg/shared/trace-tile.js';
import { LRUCache } from 'lru-cache';
import {
  compileStainMapping,
  stainMappingKey,
  type ColourMap,
  type StainMapping,
} from '@glomseg/shared/stain-normalization.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { isModelLoadFailure } from './execution-providers.js';
import { fromFloat16Bits, toFloat16Bits } from './float16.js';
import type { CloseRequest, RunRequest, SessionFailure, WorkerInit, WorkerMessage } from './inference-protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.ts must run in a worker thread');
const init = workerData as WorkerInit;
const { card } = init;

// A worker serves a few slides at a time; each slide's colour map remembers its colours across that slide's tiles.
const stainMappers = new LRUCache<string, ColourMap>({ max: 4 });

function stainMapperFor(mapping: StainMapping): ColourMap {
  const key = stainMappingKey(mapping);
  let mapper = stainMappers.get(key);
  if (!mapper) stainMappers.set(key, (mapper = compileStainMapping(mapping)));
  return mapper;
}

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const session = await openSession();
if (session) {
  const meta = session.inputMetadata.find((m) => m.name === card.input.name);
  const inputIsHalf = meta?.isTensor === true && meta.type === 'float16';
  let current: Promise<void> = Promise.resolve();
  port.on('message', (request: RunRequest | CloseRequest) => {
    if (request.type === 'close') {
      // Terminating a thread inside session.run aborts the whole process: finish the run, release, then exit.
      void current.then(async () => {
        await session.release().catch(() => undefined);
        process.exit(0);
      });
      return;
    }
    current = run(session, request, inputIsHalf).catch((error: unknown) => {
      post({
        type: 'error',
        id: request.id,
        code: isGlomsegError(error) ? error.code : 'INTERNAL',
        message: isGlomsegError(error)
          ? error.message
          : `inference failed: ${(error as Error)?.message ?? String(error)}`,
      });
    });
  });
}

async function openSession(): Promise<InferenceSession | undefined> {
  const failures: SessionFailure[] = [];
  for (const candidate of init.candidates) {
    try {
      const session = await InferenceSession.create(candidate.modelPath, candidate.sessionOptions);
      checkNames(session);
      post({ type: 'ready', chosen: candidate, failures });
      return session;
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      const modelFault = isModelLoadFailure(message) || isGlomsegError(error);
      // The main thread explains provider failures: the registry, and any provider registered at run time, live there.
      failures.push({ device: candidate.device, reason: modelFault ? message.trim() : message, modelFault });
      if (modelFault) break;
    }
  }
  post({ type: 'init-failed', failures });
  return undefined;
}

function checkNames(session: InferenceSession): void {
  const problems: string[] = [];
  if (!session.inputNames.includes(card.input.name)) {
    problems.push(`input '${card.input.name}' (the model has ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(card.output.name)) {
    problems.push(`output '${card.output.name}' (the model has ${session.outputNames.join(', ')})`);
  }
  if (problems.length > 0) {
    throw new GlomsegError('FAILED_PRECONDITION', `model card '${card.id}' names ${problems.join(' and ')}`);
  }
}

async function run(session: InferenceSession, request: RunRequest, inputIsHalf: boolean): Promise<void> {
  const image: RgbImage = { width: request.width, height: request.height, data: request.data };
  // Stain mapping, padding, normalisation and the tissue count in one pass over the pixels.
  const { values, width, height, tissueFraction } = tileModelInput(
    image,
    card,
    request.stain ? stainMapperFor(request.stain) : undefined,
  );
  const dims = card.input.layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
  const input = inputIsHalf ? new Tensor('float16', toFloat16Bits(values), dims) : new Tensor('float32', values, dims);
  const started = performance.now();
  const outputs = await session.run({ [card.input.name]: input }, [card.output.name]);
  const runMs = performance.now() - started;
  const output = outputs[card.output.name];
  const raw = output.type === 'float16' ? fromFloat16Bits(output.data as Uint16Array) : (output.data as Float32Array);
  // The probabilities go back too (moved, not copied) unless unwanted: the service keeps them to re-cut. A tile that
  // is only cut keeps its logits and is cut on them (map-values.ts): the same polygons without a sigmoid per pixel.
  const withProbabilities = request.returnProbabilities !== false;
  let map = toProbabilityMap(raw, output.dims, card, { keepLogits: request.trace !== undefined && !withProbabilities });
  if (map.width !== image.width || map.height !== image.height)
    map = cropProbability(map, 0, 0, image.width, image.height);
  input.dispose();
  output.dispose();
  if (request.trace) {
    const traceStart = performance.now();
    const polygons = traceTile(map, request.trace);
    post(
      {
        type: 'polygons',
        id: request.id,
        polygons,
        probabilities: withProbabilities ? { width: map.width, height: map.height, data: map.data } : undefined,
        runMs,
        postprocessMs: performance.now() - traceStart,
        tissueFraction,
      },
      withProbabilities ? [map.data.buffer as ArrayBuffer] : [],
    );
    return;
  }
  post({ type: 'result', id: request.id, width: map.width, height: map.height, data: map.data, runMs }, [
    map.data.buffer as ArrayBuffer,
  ]);
}
