import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkTorch,
  runAdaptProcess,
  type AdaptLine,
  type AdaptProcessOptions,
} from '../../../server/src/adaptation/adapt-process.js';
import { rejection } from '../../helpers/rejection.js';

const STAND_IN = path.join(import.meta.dirname, 'stand-in-adapt.py');
let scratch: string;
/** A real interpreter that cannot import PyTorch: Debian's python3 without its site packages. */
let noTorchPython: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'glomseg-adapt-process-'));
  noTorchPython = path.join(scratch, 'python-without-torch');
  await writeFile(noTorchPython, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  await chmod(noTorchPython, 0o755);
});

afterAll(() => rm(scratch, { recursive: true, force: true }));

function options(mode: string, extra: Partial<AdaptProcessOptions> = {}): AdaptProcessOptions {
  return {
    python: '/usr/bin/python3',
    script: STAND_IN,
    args: ['--mode', mode],
    threads: 2,
    memoryBytes: 3 * 1024 ** 3,
    timeLimitMs: 120_000,
    killGraceMs: 500,
    ...extra,
  };
}

async function collect(lines: AsyncIterable<AdaptLine>, onLine?: (line: AdaptLine) => void): Promise<AdaptLine[]> {
  const out: AdaptLine[] = [];
  for await (const line of lines) {
    out.push(line);
    onLine?.(line);
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runAdaptProcess', () => {
  it('streams progress, then the summary; the child runs with the thread, memory and priority bounds and no secrets', async () => {
    process.env.GLOMSEG_TEST_SECRET = 'not for children';
    try {
      const lines = await collect(runAdaptProcess(options('ok'), new AbortController().signal));
      expect(lines.slice(0, 3)).toEqual([
        { kind: 'progress', step: 1, steps: 3, loss: 1, etaSeconds: 2 },
        { kind: 'progress', step: 2, steps: 3, loss: 0.5, etaSeconds: 1 },
        { kind: 'progress', step: 3, steps: 3, loss: 1 / 3, etaSeconds: 0 },
      ]);
      const done = lines[3];
      expect(done?.kind).toBe('done');
      if (done?.kind === 'done')
        expect(done.summary).toMatchObject({
          threadsArg: '2',
          omp: '2',
          mkl: '2',
          addressSpace: 3 * 1024 ** 3,
          nice: 10,
          secret: null,
        });
    } finally {
      delete process.env.GLOMSEG_TEST_SECRET;
    }
  });

  it('a cancelled run stops the child with SIGTERM (it keeps nothing): CANCELLED, and the process is gone', async () => {
    const controller = new AbortController();
    const pidFile = path.join(scratch, 'slow.pid');
    const error = await rejection(
      collect(
        runAdaptProcess(options('slow', { args: ['--mode', 'slow', '--pid-file', pidFile] }), controller.signal),
        (line) => {
          if (line.kind === 'progress' && line.step === 2) controller.abort();
        },
      ),
    );
    expect(error.code).toBe('CANCELLED');
    expect(error.message).toMatch(/nothing was kept/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it('a child that ignores SIGTERM is killed after the grace period', async () => {
    const controller = new AbortController();
    const pidFile = path.join(scratch, 'stubborn.pid');
    const args = ['--mode', 'ignore-term', '--pid-file', pidFile];
    const started = collect(runAdaptProcess(options('ignore-term', { args }), controller.signal), (line) => {
      if (line.kind === 'progress' && line.step === 1) controller.abort();
    });
    expect((await rejection(started)).code).toBe('CANCELLED');
    expect(alive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('past its time limit the child is stopped: DEADLINE_EXCEEDED', async () => {
    const error = await rejection(
      collect(runAdaptProcess(options('slow', { timeLimitMs: 1500 }), new AbortController().signal)),
    );
    expect(error.code).toBe('DEADLINE_EXCEEDED');
  });

  it('maps the script exit codes: 3 (no PyTorch) and 2 (a model that cannot be adapted) to FAILED_PRECONDITION', async () => {
    const noTorch = await rejection(collect(runAdaptProcess(options('no-torch'), new AbortController().signal)));
    expect(noTorch.code).toBe('FAILED_PRECONDITION');
    expect(noTorch.message).toMatch(/apt-get install python3-torch/);
    const badCard = await rejection(collect(runAdaptProcess(options('bad-card'), new AbortController().signal)));
    expect(badCard).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(badCard.message).toMatch(/cannot be adapted: models\/x\.json names no PyTorch checkpoint/);
  });
});

describe('checkTorch', () => {
  it('passes for Debian python3 with python3-torch, and says what to install for one without', async () => {
    await checkTorch('/usr/bin/python3', new AbortController().signal);
    const error = await rejection(checkTorch(noTorchPython, new AbortController().signal));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toMatch(/needs PyTorch.*No module named 'torch'.*apt-get install python3-torch/);
    const missing = await rejection(checkTorch(path.join(scratch, 'no-such-python'), new AbortController().signal));
    expect(missing.code).toBe('FAILED_PRECONDITION');
  });
});
