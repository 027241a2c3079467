/**
 * `glomseg serve`'s connection bounds, as an operator sets them (behind a proxy that opens many connections):
 * --max-connections and --max-connections-per-peer, and the config file's "connections" object, flags winning.
 * A real serve process, and silent sockets from several 127.0.0.x addresses: which of them the server closes shows
 * the bounds it applies, on both ports. Bad values are refused before anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { until } from '../../helpers/until.js';
import { glomseg } from '../../helpers/cli.js';
import { SERVE_EVAL_REGION, startServe, stopServe, type ServeProcess } from '../../helpers/serve-process.js';

let dir: string;
let server: ServeProcess | undefined;
let grpcPort: number;
let httpPort: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-serve-connections-'));
  const config = path.join(dir, 'serve.json');
  // The file sets both; the flag's per-peer bound wins over the file's.
  await writeFile(config, JSON.stringify({ connections: { maxConnections: 4, maxConnectionsPerPeer: 50 } }));
  const flags = ['--http-port', '0', '--config', config, '--max-connections-per-peer', '2'];
  server = await startServe([...SERVE_EVAL_REGION, ...flags], (msg) => {
    const web = /gRPC-Web listening on http:\/\/[^:]+:(\d+)/.exec(msg);
    if (web) httpPort = Number(web[1]);
    const grpc = /^gRPC listening on [^:]+:(\d+)/.exec(msg);
    if (grpc) grpcPort = Number(grpc[1]);
    return Boolean(grpcPort && httpPort);
  });
}, 120_000);

afterAll(async () => {
  await stopServe(server);
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
    const result = await glomseg([...SERVE_EVAL_REGION, '--no-http', ...flags]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it("refuses an unknown key in the config file's connections", async () => {
    const config = path.join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ connections: { maxConnectionsPerIp: 10 } }));
    const result = await glomseg([...SERVE_EVAL_REGION, '--no-http', '--config', config]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /unknown connection setting 'maxConnectionsPerIp'.*maxConnections, maxConnectionsPerPeer/,
    );
  });
});
