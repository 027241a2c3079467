/**
 * Pipelined HTTP/1.1 requests, one at a time per connection, on a real Node HTTP server over loopback whose first
 * reply is held open by the test: the requests behind it are not handled until it is done, then all are answered
 * in order; when the connection closes first they are never handled; a connection with more requests waiting than
 * the bound is closed.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PipelinedRequests } from '../../../server/src/web/pipelined-requests.js';
import { until } from '../../helpers/until.js';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/**
 * A server whose request /hold stays open until release() is called. seen: the requests Node parsed; handled: the
 * paths handled, in order.
 */
async function start(maxWaiting: number) {
  const pipelined = new PipelinedRequests(maxWaiting);
  const handled: string[] = [];
  const seen = { count: 0 };
  const held: http.ServerResponse[] = [];
  server = http.createServer((request, response) => {
    seen.count++;
    pipelined.inTurn(request, response, () => {
      handled.push(request.url!);
      if (request.url === '/hold') held.push(response);
      else response.end(`reply ${request.url}\n`);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, handled, seen, release: () => held.shift()!.end('reply /hold\n') };
}

/** One connection sending these GET requests pipelined in one write; what it received, and whether it closed. */
function pipeline(port: number, paths: string[]) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let closed = false;
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
  return { received: () => received, closed: () => closed, destroy: () => socket.destroy() };
}

const replies = (text: string) => [...text.matchAll(/^reply (\S+)$/gm)].map((m) => m[1]);

describe('pipelined requests', () => {
  it('are handled one after another, each once the reply before it is done, and all answered in order', async () => {
    const { port, handled, seen, release } = await start(8);
    const client = pipeline(port, ['/hold', '/a', '/b']);
    try {
      // Parsed and waiting, not handled: the first reply is still open.
      await until(() => seen.count === 3);
      expect(handled).toEqual(['/hold']);
      release();
      await until(() => replies(client.received()).length === 3);
      expect(handled).toEqual(['/hold', '/a', '/b']);
      expect(replies(client.received())).toEqual(['/hold', '/a', '/b']);
    } finally {
      client.destroy();
    }
  });

  it('are never handled when their connection closes before their turn', async () => {
    const { port, handled, seen } = await start(8);
    const client = pipeline(port, ['/hold', '/a', '/b']);
    await until(() => seen.count === 3);
    client.destroy();
    // The held reply closes with its connection: the turn passes, and finds the connection gone.
    await until(
      async () => (await new Promise<number>((resolve) => server!.getConnections((_, n) => resolve(n)))) === 0,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(handled).toEqual(['/hold']);
  });

  it('close a connection with more requests waiting than the bound', async () => {
    const { port, handled } = await start(3);
    const client = pipeline(port, ['/hold', '/a', '/b', '/c', '/d']);
    await until(() => client.closed());
    expect(handled).toEqual(['/hold']);
    expect(client.received()).toBe('');
  });
});
