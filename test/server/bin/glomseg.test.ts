/**
 * The `glomseg` bin as users and containers start it: under `npx`, `npm exec` and coreutils' `timeout`, each a
 * chain of real processes. SIGTERM to the outermost one must reach the server, which drains (a stream in progress
 * finishes) and exits; no process of the chain may be left serving. Also `--version` and a start from another folder.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/paths.js';
import { glomsegClient, statusOf } from '../../helpers/grpc.js';
import { until } from '../../helpers/until.js';
import { SERVE_EVAL_REGION } from '../../helpers/serve-process.js';

const BIN = path.join(REPO_ROOT, 'server', 'bin', 'glomseg.js');
const SERVE = [...SERVE_EVAL_REGION, '--no-http', '--workers', '1', '--shutdown-grace', '120'];

/** Every live process below `root` (parent links read from /proc), zombies left out. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = processStat(Number(entry));
    if (!fields || fields.state === 'Z') continue;
    children.set(fields.ppid, [...(children.get(fields.ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0)
    for (const child of children.get(queue.shift()!) ?? []) {
      queue.push(child);
      found.push(child);
    }
  return found;
}

function processStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    // The command name (in parentheses) may hold spaces: the fields after its closing parenthesis are fixed.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => {
  const stat = processStat(pid);
  return stat !== undefined && stat.state !== 'Z';
};

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

let started: { outer: ChildProcess; pids: number[] } | undefined;
afterEach(() => {
  // A failed run may leave an orphan serving: end the processes this test started, by their ids.
  for (const pid of started?.pids ?? []) if (alive(pid)) process.kill(pid, 'SIGKILL');
  started = undefined;
});

/** Starts `command` (a launcher around the bin), waits for the server to listen, returns its port and stderr. */
async function startServe(command: string[]) {
  const outer = spawn(command[0], command.slice(1), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  started = { outer, pids: [] };
  let stderr = '';
  outer.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    outer.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await until(() => /gRPC listening on [^:\s]+:\d+/.test(stderr) || outer.exitCode !== null, 180_000, 100);
  const port = Number(/gRPC listening on [^:\s]+:(\d+)/.exec(stderr)?.[1]);
  expect(port, stderr).toBeGreaterThan(0);
  started.pids = [outer.pid!, ...descendants(outer.pid!)];
  return { outer, port, exited, stderr: () => stderr };
}

// npm passes the signal to the shell it runs the bin in and, once that shell has died of it, ends by the same
// signal without waiting for the server's drain (npm/cli#5776); `timeout` passes it on and waits, exiting as we do.
describe.each([
  ['npx', ['npx', '--offline', 'glomseg', ...SERVE], { code: null, signal: 'SIGTERM' }],
  ['npm exec', ['npm', 'exec', '--offline', '--', 'glomseg', ...SERVE], { code: null, signal: 'SIGTERM' }],
  ['timeout', ['timeout', '600', BIN, ...SERVE], { code: 0, signal: null }],
])('glomseg serve under %s', (_name, command, exit) => {
  it('drains and leaves no process behind when the outermost process gets SIGTERM', async () => {
    const { outer, port, exited, stderr } = await startServe(command);
    const pids = started!.pids;
    const client = glomsegClient(`127.0.0.1:${port}`);
    let messages = 0;
    const ended = statusOf(
      (async function* () {
        for await (const _message of client.scoreSlide({ slideId: 'kidney-region.tif' })) yield messages++;
      })(),
    );
    await until(() => messages > 0, 120_000, 50);

    outer.kill('SIGTERM');
    // Drained: the stream that was running when the signal came finishes with its summary.
    expect(await ended).toEqual({ code: 0, details: '' });
    client.close();
    await until(async () => pids.every((pid) => !alive(pid)) && !(await accepts(port)), 60_000, 100).catch(() => {
      throw new Error(
        `still running: ${pids.filter(alive).join(', ')} of ${pids.join(', ')}; port ${port} open; stderr:\n${stderr()}`,
      );
    });
    expect(stderr()).toMatch(/SIGTERM: draining/);
    expect(stderr()).toMatch(/\[glomseg\] stopped/);
    expect(await exited).toEqual(exit);
  }, 300_000);
});

describe('glomseg bin', () => {
  it('runs from any folder (tsx is found beside the bin, not in the working folder)', async () => {
    const { stdout } = await promisify(execFile)(BIN, ['--help'], { cwd: tmpdir() });
    expect(stdout).toMatch(/Usage: glomseg/);
  });

  it('prints the version of package.json with --version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const { stdout } = await promisify(execFile)(BIN, ['--version'], { cwd: REPO_ROOT });
    expect(stdout.trim()).toBe(version);
  });
});
