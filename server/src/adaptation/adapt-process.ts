/**
 * The training child process (training/adapt.py) with its bounds: threads (the BLAS/OpenMP pools and --threads),
 * address space (prlimit --as), a lower CPU priority (nice) than serving, and wall time; stopped by the caller's
 * signal with SIGTERM (the script keeps nothing and exits 4), then SIGKILL after a grace period. Its stdout is one
 * JSON object a line: progress, then a final {"done": true, ...}; its stderr says why it failed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';

/** The script's exit codes (training/adapt.py). */
const EXIT_USAGE = 2;
const EXIT_NO_TORCH = 3;
const EXIT_STOPPED = 4;

export const TORCH_INSTALL_HINT =
  'install PyTorch for /usr/bin/python3 (Debian: apt-get install python3-torch python3-numpy python3-pil; ' +
  'docs/deploy.md says how to build a container image with it)';

/**
 * Run first, in the child: the kernel kills it when the server dies (PR_SET_PDEATHSIG survives the execs of
 * prlimit, nice and python), so a killed server leaves no training running on; then it becomes the bounded command.
 */
const DIE_WITH_PARENT = [
  'import ctypes, os, signal, sys',
  'ctypes.CDLL(None).prctl(1, signal.SIGKILL)',
  'os.getppid() == int(sys.argv[1]) or sys.exit(1)',
  'os.execvp(sys.argv[2], sys.argv[2:])',
].join('\n');

export interface AdaptProcessOptions {
  python: string;
  script: string;
  args: string[];
  threads: number;
  /** Address-space limit of the child, bytes. */
  memoryBytes: number;
  /** Wall-clock limit: past it the child is stopped (DEADLINE_EXCEEDED). */
  timeLimitMs: number;
  /** From SIGTERM to SIGKILL. */
  killGraceMs?: number;
  cwd?: string;
  log?: (message: string) => void;
}

export type AdaptLine =
  | { kind: 'progress'; step: number; steps: number; loss?: number; etaSeconds?: number }
  | { kind: 'done'; summary: Record<string, unknown> };

/** The environment the child gets: no secrets of the server's, thread pools sized to the bound. */
function childEnv(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
  for (const key of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key];
  for (const key of ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'NUMEXPR_NUM_THREADS'])
    env[key] = String(threads);
  return env;
}

export async function* runAdaptProcess(options: AdaptProcessOptions, signal: AbortSignal): AsyncGenerator<AdaptLine> {
  throwIfAborted(signal);
  const { python, script, args, threads } = options;
  const bounded = ['prlimit', `--as=${Math.floor(options.memoryBytes)}`, '--', 'nice', '-n', '10', python, script];
  const argv = ['-c', DIE_WITH_PARENT, String(process.pid), ...bounded, ...args, '--threads', String(threads)];
  const child = spawn(python, argv, {
    cwd: options.cwd,
    env: childEnv(threads),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: the signals reach whatever it starts too
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, sig) => resolve({ code, signal: sig }));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  let stopReason: 'cancelled' | 'timeout' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: 'cancelled' | 'timeout') => {
    if (stopReason || child.exitCode !== null || child.signalCode !== null) return;
    stopReason = reason;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? 10_000);
  };
  const onAbort = () => stop('cancelled');
  signal.addEventListener('abort', onAbort, { once: true });
  const timeLimit = setTimeout(() => stop('timeout'), options.timeLimitMs);
  try {
    let done: Record<string, unknown> | undefined;
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      const parsed = parseLine(line);
      if (!parsed) options.log?.(`adapt: ${line}`);
      else if (parsed.kind === 'done') done = parsed.summary;
      else yield parsed;
    }
    const exit = await exited;
    if (stopReason === 'cancelled')
      throw new GlomsegError('CANCELLED', 'the adaptation was cancelled; nothing was kept');
    if (stopReason === 'timeout')
      throw new GlomsegError(
        'DEADLINE_EXCEEDED',
        `the adaptation ran past its limit of ${Math.round(options.timeLimitMs / 60_000)} min and was stopped; nothing was kept`,
      );
    if (exit.code === 0 && done) {
      yield { kind: 'done', summary: done };
      return;
    }
    throw failure(exit, stderr);
  } finally {
    signal.removeEventListener('abort', onAbort);
    clearTimeout(timeLimit);
    // Left early (the consumer stopped reading): the child must not train on unseen.
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(child.pid, 'SIGKILL');
      await exited.catch(() => undefined);
    }
    clearTimeout(killTimer);
  }
}

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

function parseLine(line: string): AdaptLine | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (value.done === true) return { kind: 'done', summary: value };
  if (typeof value.step !== 'number' || typeof value.steps !== 'number') return undefined;
  const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    kind: 'progress',
    step: value.step,
    steps: value.steps,
    loss: number(value.loss),
    etaSeconds: number(value.etaSeconds),
  };
}

/** Why the child failed, as the caller should hear it; its last stderr line is the script's own message. */
function failure(exit: { code: number | null; signal: NodeJS.Signals | null }, stderr: string): GlomsegError {
  const said = stderr
    .trim()
    .split('\n')
    .slice(-3)
    .join(' ')
    .replace(/^adapt: /, '');
  if (exit.code === EXIT_NO_TORCH)
    return new GlomsegError('FAILED_PRECONDITION', `PyTorch is missing: ${TORCH_INSTALL_HINT} (${said})`);
  if (exit.code === EXIT_USAGE) return new GlomsegError('FAILED_PRECONDITION', `the model cannot be adapted: ${said}`);
  if (exit.code === EXIT_STOPPED) return new GlomsegError('CANCELLED', 'the adaptation was stopped; nothing was kept');
  if (/MemoryError|out of memory|bad_alloc|Cannot allocate memory/i.test(stderr) || exit.signal === 'SIGKILL')
    return new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `the adaptation ran out of its memory limit and was stopped (raise serve --adapt-memory, or adapt on fewer regions): ${said}`,
    );
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return new GlomsegError('INTERNAL', `the training process failed (${how}): ${said || 'no message'}`);
}

/** Throws FAILED_PRECONDITION with what to install when `python` cannot import what training needs. */
export async function checkTorch(python: string, signal: AbortSignal): Promise<void> {
  const child = spawn(python, ['-c', 'import torch, numpy, PIL'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childEnv(1),
    signal,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2048)));
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('exit', (c) => resolve(c));
  });
  throwIfAborted(signal);
  if (code !== 0) {
    const said = stderr.trim().split('\n').pop() ?? '';
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `adapting a model needs PyTorch, and ${python} cannot import it${said ? ` (${said})` : ''}: ${TORCH_INSTALL_HINT}`,
    );
  }
}
