/**
 * `glomseg serve`'s connection bounds, as an operator sets them (behind a proxy that opens many connections):
 * --max-connections and --max-connections-per-peer, and the config file's "connections" object, flags winning.
 * A real serve process, and silent sockets from several 127.0.0.x addresses: which of them the server closes shows
 * the bounds it applies, on both ports. Bad values are refused before anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EVAL_REGION, MODELS, REPO_ROOT } from '../../helpers/paths.js';
import { until } from '../../helpers/until.js';

const CLI = path.join(REPO_ROOT, 'server', 'src', 'cli', 'main.ts');
let dir: string;
let server: ChildProcess;
let grpcPort: number;
let httpPort: number;

async function glomseg(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO_ROOT,
      timeout: 120_000,
    });
    return { code: 0, stderr };
  } catch (error: any) {
    if (typeof error?.code !== 'number') throw error;
    return { code: error.code, stderr: error.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-serve-connections-'));
  const config = path.join(dir, 'serve.json');
  // The file sets both; the flag's per-peer bound wins over the file's.
  await writeFile(config, JSON.stringify({ connections: { maxConnections: 4, maxConnectionsPerPeer: 50 } }));
  server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--port',
      '0',
      '--http-port',
      '0',
      '--slides',
      EVAL_REGION,
      '--models',
      MODELS,
      '--device',
      'cpu',
      '--config',
      config,
      '--max-connections-per-peer',
      '2',
      '--log-format',
      'json',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let buffer = '';
  let all = '';
  server.stderr!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${all}`)));
    server.stderr!.on('data', (chunk: string) => {
      buffer += chunk;
      all += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith('{')) continue;
        const msg: string = JSON.parse(line).msg;
        const web = /gRPC-Web listening on http:\/\/[^:]+:(\d+)/.exec(msg);
        if (web) httpPort = Number(web[1]);
        const grpc = /^gRPC listening on [^:]+:(\d+)/.exec(msg);
        if (grpc) grpcPort = Number(grpc[1]);
        if (grpcPort && httpPort) resolve();
      }
    });
  });
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Silent {
  socket: net.Socket;
  closed: boolean;
}

/** A socket from `localAddress` that sends nothing; `closed` turns true when the server closes it. */
async function silent(port: number, localAddress: string): Promise<Silent> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  const entry: Silent = { socket, closed: false };
  socket.on('error', () => undefined);
  socket.on('close', () => (entry.closed = true));
  socket.resume();
  await once(socket, 'connect');
  return entry;
}

describe("serve --max-connections-per-peer and the config file's connections", () => {
  it.each([
    ['gRPC', () => grpcPort],
    ['HTTP', () => httpPort],
  ])(
    "the %s port holds 2 sockets per peer (the flag, not the file's 50) and 4 in all (the file)",
    async (_name, port) => {
      const opened: Silent[] = [];
      try {
        const a1 = await silent(port(), '127.0.0.2');
        const a2 = await silent(port(), '127.0.0.2');
        const a3 = await silent(port(), '127.0.0.2');
        opened.push(a1, a2, a3);
        // The peer's third socket pushes out its first: 2 per peer.
        await until(() => a1.closed);
        const b1 = await silent(port(), '127.0.0.3');
        const b2 = await silent(port(), '127.0.0.3');
        opened.push(b1, b2);
        // Four open (a2, a3, b1, b2): the cap. Another peer's socket pushes out the oldest, a2.
        const c1 = await silent(port(), '127.0.0.4');
        opened.push(c1);
        await until(() => a2.closed);
        expect([a3, b1, b2, c1].map((s) => s.closed)).toEqual([false, false, false, false]);
      } finally {
        for (const { socket } of opened) socket.destroy();
      }
    },
  );
});

describe('bad connection bounds', () => {
  it.each([
    [['--max-connections-per-peer', '0'], /--max-connections-per-peer.*'0' is not a positive whole number/],
    [['--max-connections', '2.5'], /--max-connections.*'2\.5' is not a positive whole number/],
    [
      ['--max-connections', '10', '--max-connections-per-peer', '20'],
      /--max-connections-per-peer \(20\) is more than --max-connections \(10\)/,
    ],
  ])('%j is refused in words before anything starts', async (flags, message) => {
    const result = await glomseg([
      'serve',
      '--port',
      '0',
      '--no-http',
      '--slides',
      EVAL_REGION,
      '--models',
      MODELS,
      ...flags,
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it("refuses an unknown key in the config file's connections", async () => {
    const config = path.join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ connections: { maxConnectionsPerIp: 10 } }));
    const result = await glomseg([
      'serve',
      '--port',
      '0',
      '--no-http',
      '--slides',
      EVAL_REGION,
      '--models',
      MODELS,
      '--config',
      config,
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /unknown connection setting 'maxConnectionsPerIp'.*maxConnections, maxConnectionsPerPeer/,
    );
  });
});
