import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { applySigmoid, toModelInput } from '@glomseg/shared/preprocess.js';
import { applyReinhard, measureStainStatistics } from '@glomseg/shared/stain-normalization.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import {
  CUDA_NOT_INSTALLED_MESSAGE,
  cudaProviderInstalled,
  OnnxSegmenter,
  WEBGPU_NO_ADAPTER_MESSAGE,
} from '../../../server/src/inference/index.js';
import { NO_GPU_FOUND, probeGpu } from '../../../server/src/inference/gpu-presence.js';
import { webgpuUnavailableReason } from '../../../server/src/inference/providers/webgpu.js';
import { buildTinyModel, type TinyModel } from './tiny-model.js';
import { readTileCrop } from './tile-image.js';

// No GPU device node, or no Vulkan loader, means no WebGPU adapter can exist.
const machineHasGpu = webgpuUnavailableReason(probeGpu()) === undefined;

let tiny: TinyModel;
let tile320: RgbImage;
let tile512: RgbImage;

beforeAll(async () => {
  tiny = await buildTinyModel();
  tile320 = await readTileCrop('2', 600, 400, 320, 320);
  tile512 = await readTileCrop('2', 500, 300, 512, 512);
});

afterAll(async () => {
  if (tiny) await rm(tiny.folder, { recursive: true, force: true });
});

/** The same model run directly on this thread, as a reference. */
async function directRun(image: RgbImage): Promise<Float32Array> {
  const session = await InferenceSession.create(tiny.modelPath);
  const input = new Tensor('float32', toModelInput(image, tiny.card), [1, 3, image.height, image.width]);
  const output = await session.run({ image: input });
  await session.release();
  return applySigmoid(new Float32Array(output.logits.data as Float32Array));
}

async function expectCode(promise: Promise<unknown>, code: string, message?: string | RegExp): Promise<GlomsegError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GlomsegError);
  expect((error as GlomsegError).code).toBe(code);
  if (message) expect((error as GlomsegError).message).toMatch(message);
  return error as GlomsegError;
}

describe('OnnxSegmenter on CPU', () => {
  it('gives the same probabilities as a direct onnxruntime run', async () => {
    const segmenter = await OnnxSegmenter.create({ card: tiny.card, modelPath: tiny.modelPath, device: 'cpu' });
    try {
      const map = await segmenter.predict(tile320);
      const expected = await directRun(tile320);
      expect(map.width).toBe(320);
      expect(map.height).toBe(320);
      expect(map.data.length).toBe(expected.length);
      let maxDiff = 0;
      for (let k = 0; k < expected.length; k++) maxDiff = Math.max(maxDiff, Math.abs(map.data[k] - expected[k]));
      expect(maxDiff).toBeLessThan(1e-6);
      // A real tissue crop through random weights still gives a spread of values, all probabilities.
      let min = 1;
      let max = 0;
      for (const v of map.data) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max - min).toBeGreaterThan(0.01);
      // The caller's pixels are untouched (they are copied, not moved, to the worker).
      expect(tile320.data.length).toBe(320 * 320 * 3);
      expect(segmenter.stats()).toMatchObject({
        queued: 0,
        running: 0,
        completed: 1,
        failed: 0,
        workers: Math.min(2, availableParallelism()),
      });
    } finally {
      await segmenter.dispose();
    }
  });

  it('pads sizes that are not a multiple of sizeMultiple and returns the input size', async () => {
    const odd = await readTileCrop('2', 600, 400, 317, 321);
    const segmenter = await OnnxSegmenter.create({ card: tiny.card, modelPath: tiny.modelPath, device: 'cpu' });
    try {
      const map = await segmenter.predict(odd);
      expect([map.width, map.height]).toEqual([317, 321]);
      // Reference: pad with white to 318 x 322 by hand, run directly, keep the top-left 317 x 321.
      const padded: RgbImage = { width: 318, height: 322, data: new Uint8Array(318 * 322 * 3).fill(255) };
      for (let y = 0; y < 321; y++) padded.data.set(odd.data.subarray(y * 317 * 3, (y + 1) * 317 * 3), y * 318 * 3);
      const full = await directRun(padded);
      let maxDiff = 0;
      for (let y = 0; y < 321; y++) {
        for (let x = 0; x < 317; x++) maxDiff = Math.max(maxDiff, Math.abs(map.data[y * 317 + x] - full[y * 318 + x]));
      }
      expect(maxDiff).toBeLessThan(1e-6);
    } finally {
      await segmenter.dispose();
    }
  });

  it("maps a tile's stain where the model runs: the same map as mapping it first on this thread", async () => {
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'cpu',
      workers: 1,
    });
    try {
      const from = measureStainStatistics(tile320)!;
      const stain = {
        method: 'reinhard' as const,
        from,
        to: { mean: [from.mean[0] + 8, from.mean[1] - 6, from.mean[2]] as [number, number, number], std: from.std },
      };
      const inWorker = await segmenter.predict(tile320, undefined, { stain });
      const mappedHere = await segmenter.predict(applyReinhard(tile320, stain));
      const plain = await segmenter.predict(tile320);
      expect(inWorker.data).toEqual(mappedHere.data);
      expect(inWorker.data).not.toEqual(plain.data);
    } finally {
      await segmenter.dispose();
    }
  });

  it('never runs session.run on the calling thread: 20 predictions on 512 x 512 leave its event loop turning', async () => {
    /**
     * Counts event-loop turns (setImmediate round trips) while `work` runs. A blocking session.run stops the loop
     * for its whole length, so at most a few turns fit between runs; off the thread, the loop turns freely. The
     * bound below is two orders of magnitude from either case, so machine load cannot decide it.
     */
    const loopTurns = async (work: () => Promise<unknown>): Promise<number> => {
      let turns = 0;
      let spinning = true;
      const spin = () => {
        turns++;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      await work();
      spinning = false;
      return turns;
    };
    // Any session.run on this thread, by any code path, is counted here (worker threads load their own copy).
    // (The exported factory is the session class itself; its type hides the prototype.)
    const sessionClass = InferenceSession as unknown as { prototype: Pick<InferenceSession, 'run'> };
    const mainThreadRuns = vi.spyOn(sessionClass.prototype, 'run');
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'cpu',
      workers: 2,
      intraOpThreads: 1,
    });
    try {
      await segmenter.predict(tile512); // warm-up
      let maps: Array<{ width: number; height: number }> = [];
      const pooled = await loopTurns(async () => {
        maps = await Promise.all(Array.from({ length: 20 }, () => segmenter.predict(tile512)));
      });
      expect(maps.every((m) => m.width === 512 && m.height === 512)).toBe(true);
      expect(segmenter.stats().completed).toBe(21);
      expect(mainThreadRuns).not.toHaveBeenCalled();

      // Control: the same model run on this thread (three times) lets only a handful of turns through.
      const session = await InferenceSession.create(tiny.modelPath, { intraOpNumThreads: 1 });
      const input = new Tensor('float32', toModelInput(tile512, tiny.card), [1, 3, 512, 512]);
      await session.run({ image: input });
      const onThisThread = await loopTurns(async () => {
        for (let k = 0; k < 3; k++) await session.run({ image: input });
      });
      await session.release();
      expect(mainThreadRuns).toHaveBeenCalledTimes(4); // the spy sees runs on this thread: its silence above means something

      expect(onThisThread).toBeLessThan(3 * 10);
      expect(pooled).toBeGreaterThan(20 * 100);
    } finally {
      mainThreadRuns.mockRestore();
      await segmenter.dispose();
    }
  });

  it('rejects a queued prediction at once when its signal aborts, and never runs it', async () => {
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'cpu',
      workers: 1,
    });
    try {
      const running = segmenter.predict(tile512);
      const controller = new AbortController();
      const queued = segmenter.predict(tile512, controller.signal);
      expect(segmenter.stats()).toMatchObject({ queued: 1, running: 1 });
      controller.abort();
      await expectCode(queued, 'CANCELLED');
      expect(segmenter.stats()).toMatchObject({ queued: 0, running: 1, completed: 0 });
      await running;
      expect(segmenter.stats()).toMatchObject({ queued: 0, running: 0, completed: 1 });
      // The one worker runs in order: had the cancelled request been sent to it, it would finish before the next.
      await segmenter.predict(tile320);
      expect(segmenter.stats()).toMatchObject({ queued: 0, running: 0, completed: 2 });

      const already = AbortSignal.abort();
      await expectCode(segmenter.predict(tile320, already), 'CANCELLED');
      expect(segmenter.stats().completed).toBe(2);
    } finally {
      await segmenter.dispose();
    }
  });

  it('rejects a running prediction when its signal aborts and drops the late result', async () => {
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'cpu',
      workers: 1,
    });
    try {
      const controller = new AbortController();
      const running = segmenter.predict(tile512, controller.signal);
      expect(segmenter.stats().running).toBe(1); // sent to the worker: the abort lands on a running prediction
      controller.abort(new GlomsegError('DEADLINE_EXCEEDED', 'too slow'));
      await expectCode(running, 'DEADLINE_EXCEEDED', 'too slow');
      // The worker finishes its run; the next prediction works normally.
      const next = await segmenter.predict(tile320);
      expect(next.width).toBe(320);
    } finally {
      await segmenter.dispose();
    }
  });

  it('replaces a crashed worker: the request in flight fails with INTERNAL, the queue goes on', async () => {
    const messages: string[] = [];
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'cpu',
      workers: 1,
      logger: (m) => messages.push(m),
    });
    try {
      const inFlight = segmenter.predict(tile512);
      const waiting = segmenter.predict(tile320);
      await segmenter.killWorkerForTest();
      await expectCode(inFlight, 'INTERNAL', /inference worker crashed/);
      const map = await waiting;
      expect(map.width).toBe(320);
      expect(segmenter.stats()).toMatchObject({ workers: 1, failed: 1, completed: 1 });
      expect(messages.some((m) => /stopped .*starting another/.test(m))).toBe(true);
    } finally {
      await segmenter.dispose();
    }
  });

  it('rejects wrong-sized pixel buffers and use after dispose', async () => {
    const segmenter = await OnnxSegmenter.create({ card: tiny.card, modelPath: tiny.modelPath, device: 'cpu' });
    await expectCode(
      segmenter.predict({ width: 10, height: 10, data: new Uint8Array(299) }),
      'INVALID_ARGUMENT',
      /expected 300/,
    );
    const pending = expectCode(segmenter.predict(tile512), 'CANCELLED', /closed/);
    const queued = expectCode(segmenter.predict(tile512), 'CANCELLED', /closed/);
    await segmenter.dispose();
    await pending;
    await queued;
    await expectCode(segmenter.predict(tile320), 'UNAVAILABLE', /closed/);
  });
});

describe('OnnxSegmenter device selection', () => {
  it('auto picks a device and says why', async () => {
    const messages: string[] = [];
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'auto',
      logger: (m) => messages.push(m),
    });
    try {
      const log = messages.join('\n');
      if (!probeGpu().deviceNode) {
        expect(segmenter.device).toBe('cpu');
        expect(log).toContain(`inference: ${NO_GPU_FOUND}`);
        expect(log).toMatch(/model 'tiny' on cpu \(auto: first of cpu that works\)/);
      } else {
        if (!cudaProviderInstalled()) expect(log).toContain(`skipping CUDA: ${CUDA_NOT_INSTALLED_MESSAGE}`);
        expect(log).toMatch(new RegExp(`model 'tiny' on ${segmenter.device} \\(auto: first of .*cpu that works\\)`));
      }
      expect((await segmenter.predict(tile320)).width).toBe(320);
    } finally {
      await segmenter.dispose();
    }
  });

  it('auto on a machine without a GPU says so once, in its own words, and never asks WebGPU for an adapter', async () => {
    const messages: string[] = [];
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'auto',
      gpu: {},
      logger: (m) => messages.push(m),
    });
    try {
      expect(segmenter.device).toBe('cpu');
      expect(messages.filter((m) => m.includes(NO_GPU_FOUND))).toHaveLength(1);
      expect(messages.join('\n')).not.toMatch(/webgpu/i);
    } finally {
      await segmenter.dispose();
    }
  });

  it('explicit webgpu on a machine without a GPU device, or without the Vulkan loader, fails up front with the cause', async () => {
    await expectCode(
      OnnxSegmenter.create({ card: tiny.card, modelPath: tiny.modelPath, device: 'webgpu', gpu: {} }),
      'FAILED_PRECONDITION',
      NO_GPU_FOUND,
    );
    await expectCode(
      OnnxSegmenter.create({
        card: tiny.card,
        modelPath: tiny.modelPath,
        device: 'webgpu',
        gpu: { deviceNode: '/dev/dri/renderD128' },
      }),
      'FAILED_PRECONDITION',
      /libvulkan\.so\.1/,
    );
  });

  it('explicit webgpu without a GPU fails with the cause', async () => {
    const attempt = OnnxSegmenter.create({ card: tiny.card, modelPath: tiny.modelPath, device: 'webgpu' });
    if (machineHasGpu) {
      const segmenter = await attempt;
      expect(segmenter.device).toBe('webgpu');
      await segmenter.dispose();
    } else {
      await expectCode(attempt, 'FAILED_PRECONDITION', WEBGPU_NO_ADAPTER_MESSAGE);
    }
  });

  it('explicit cuda without the provider libraries fails with install advice', async () => {
    const attempt = OnnxSegmenter.create({ card: tiny.card, modelPath: tiny.modelPath, device: 'cuda' });
    if (cudaProviderInstalled()) {
      await attempt.then(
        (s) => s.dispose(),
        () => undefined,
      );
    } else {
      await expectCode(attempt, 'FAILED_PRECONDITION', CUDA_NOT_INSTALLED_MESSAGE);
    }
  });
});

describe('OnnxSegmenter with a bad model', () => {
  it('a corrupt .onnx file gives FAILED_PRECONDITION naming the file', async () => {
    const corrupt = path.join(tiny.folder, 'corrupt.onnx');
    await writeFile(corrupt, 'this is not a protobuf');
    for (const device of ['cpu', 'auto'] as const) {
      await expectCode(
        OnnxSegmenter.create({ card: tiny.card, modelPath: corrupt, device }),
        'FAILED_PRECONDITION',
        /cannot load the model .*corrupt\.onnx: .*Protobuf parsing failed/,
      );
    }
  });

  it('a card naming the wrong tensors gives FAILED_PRECONDITION naming them', async () => {
    const card = { ...tiny.card, input: { ...tiny.card.input, name: 'pixels' } };
    await expectCode(
      OnnxSegmenter.create({ card, modelPath: tiny.modelPath, device: 'cpu' }),
      'FAILED_PRECONDITION',
      /model card 'tiny' names input 'pixels' \(the model has image\)/,
    );
  });
});
