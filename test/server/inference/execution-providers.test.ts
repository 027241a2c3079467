/**
 * The execution-provider registry: the built-in providers and their order, and a provider registered from this
 * file alone (as a new providers/<name>.ts would) reaching the CLI's --device choices and `--device auto`.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Option } from 'commander';
import { GlomsegError } from '@glomseg/shared/errors.js';
import {
  deviceChoices,
  executionProviders,
  explainSessionFailure,
  providersToTry,
  registerExecutionProvider,
  sessionOptionsFor,
} from '../../../server/src/inference/execution-providers.js';
import { OnnxSegmenter } from '../../../server/src/inference/onnx-segmenter.js';
import { buildProgram } from '../../../server/src/cli/main.js';
import { buildTinyModel, type TinyModel } from './tiny-model.js';

function cliDeviceChoices(command: string): string[] | undefined {
  const sub = buildProgram().commands.find((c) => c.name() === command);
  return (sub?.options.find((o: Option) => o.long === '--device') as Option | undefined)?.argChoices;
}

describe('execution providers, built in', () => {
  it('are cpu, webgpu and cuda; auto tries them by priority, and --device lists them from the registry', () => {
    expect(executionProviders().map((p) => p.name)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(deviceChoices()).toEqual(['auto', 'cpu', 'webgpu', 'cuda']);
    expect(cliDeviceChoices('serve')).toEqual(deviceChoices());
    expect(cliDeviceChoices('score')).toEqual(deviceChoices());
  });

  it("make every session's options in one place: the provider's, its memory choice, and the thread counts", () => {
    // The CPU keeps no memory plan per input shape (ScoreSlide's windows and StreamTiles' tiles share a session).
    expect(sessionOptionsFor('cpu', 2)).toEqual({
      executionProviders: ['cpu'],
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableMemPattern: false,
    });
    expect(sessionOptionsFor('cuda', 1)).not.toHaveProperty('enableMemPattern');
  });

  it('an unknown device is INVALID_ARGUMENT naming the choices', () => {
    expect(() => providersToTry('tpu', {}, () => {})).toThrow(GlomsegError);
    expect(() => providersToTry('tpu', {}, () => {})).toThrow(
      /unknown device 'tpu' \(expected one of auto, cpu, webgpu, cuda\)/,
    );
  });

  it("a provider's failure is explained in its own words, others as '<label>: <first line>'", () => {
    expect(explainSessionFailure('cuda', 'Failed to load library libcudnn.so.9\nmore')).toMatch(
      /^CUDA: the execution provider could not start .*: Failed to load library libcudnn\.so\.9$/,
    );
    expect(explainSessionFailure('cpu', 'something odd\nstack')).toBe('CPU: something odd');
  });
});

describe('a provider registered from one file', () => {
  let tiny: TinyModel;
  const probed: string[] = [];

  beforeAll(async () => {
    tiny = await buildTinyModel({ id: 'tiny-ep' });
    // Highest of all and available: `auto` takes it first. It runs on ORT's CPU kernels, so it works here.
    registerExecutionProvider({
      name: 'test-ep',
      label: 'Test EP',
      priority: 1000,
      usesGpu: false,
      unavailable: () => (probed.push('test-ep'), undefined),
      sessionOptions: () => ['cpu'],
    });
    // Higher still but unavailable: `auto` skips it with its reason; asked for by name, it is refused with it.
    registerExecutionProvider({
      name: 'absent-ep',
      label: 'Absent EP',
      priority: 2000,
      usesGpu: false,
      unavailable: () => 'the absent accelerator is not plugged in',
      sessionOptions: () => [{ name: 'absent' } as never],
    });
  });
  afterAll(async () => {
    if (tiny) await rm(tiny.folder, { recursive: true, force: true });
  });

  it('is a --device choice of serve and score', () => {
    expect(deviceChoices()).toEqual(['auto', 'cpu', 'webgpu', 'cuda', 'test-ep', 'absent-ep']);
    expect(cliDeviceChoices('serve')).toContain('test-ep');
    expect(cliDeviceChoices('score')).toContain('test-ep');
  });

  it('is what --device auto picks, the unavailable one above it skipped with its reason', async () => {
    const messages: string[] = [];
    const segmenter = await OnnxSegmenter.create({
      card: tiny.card,
      modelPath: tiny.modelPath,
      device: 'auto',
      gpu: {},
      logger: (m) => messages.push(m),
    });
    try {
      expect(segmenter.device).toBe('test-ep');
      expect(probed).toContain('test-ep');
      expect(messages.join('\n')).toContain('inference: skipping Absent EP: the absent accelerator is not plugged in');
      expect(messages.join('\n')).toMatch(/model 'tiny-ep' on test-ep \(auto: first of test-ep, cpu that works\)/);
      const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(200) };
      expect((await segmenter.predict(image)).width).toBe(64);
    } finally {
      await segmenter.dispose();
    }
  });

  it('asked for by name while unavailable, fails up front with its reason', async () => {
    await expect(
      OnnxSegmenter.create({ card: tiny.card, modelPath: tiny.modelPath, device: 'absent-ep' }),
    ).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'the absent accelerator is not plugged in',
    });
  });
});
