/**
 * Idle sockets cannot lock clients out of the gRPC port: sockets that never start a call (silent TCP, an HTTP/2
 * preface and nothing more) are closed after the handshake timeout, and at the connection cap a new client
 * pushes out the oldest of them. Real sockets on loopback against the real app; 5,000 idle sockets stand in
 * for the probe's 20,000 because this process holds both ends of each (two descriptors) under a 20,000 limit.
 * Nor can peers without a token: with tokens configured, a refused or health call does not make a connection
 * trusted, so clients with the token still get in; the attackers bind several 127.0.0.x addresses (all of
 * 127.0.0.0/8 is loopback on Linux) to get past the bound per peer address.
 */
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { GlomsegApp } from '../../../server/src/app.js';
import { createClient } from '@connectrpc/connect';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { GrpcJsTransport } from '../../../server/src/client/grpc-js-transport.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { until } from '../../helpers/until.js';
import { glomsegClient, statusOf } from '../../helpers/grpc.js';
import { BearerTokens } from '../../../server/src/security/bearer-tokens.js';
import { SocketAttack } from '../../../server/src/bench/socket-attack.js';

const HTTP2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
const apps: GlomsegApp[] = [];
const sockets: net.Socket[] = [];

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  for (const app of apps) await app.close();
});

const TOKEN = 'gate-test-token-0123456789';
const attacks: SocketAttack[] = [];

afterAll(() => {
  for (const attack of attacks) attack.stop();
});

async function start(
  connections: { maxConnections?: number; maxConnectionsPerPeer?: number; handshakeTimeoutMs?: number },
  tokens?: BearerTokens,
): Promise<{ app: GlomsegApp; port: number }> {
  const app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    httpPort: false,
    device: 'cpu',
    connections,
    security: tokens && { tokens },
  });
  apps.push(app);
  return { app, port: Number(app.grpcAddress.split(':').pop()) };
}

function openIdle(port: number, preface: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (preface) socket.write(HTTP2_PREFACE);
      resolve(socket);
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
    sockets.push(socket);
  });
}

const closed = (socket: net.Socket) =>
  new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('gRPC connection gate', () => {
  it('closes silent and preface-only sockets after the handshake timeout, and keeps a connection that made a call', async () => {
    const { app, port } = await start({ handshakeTimeoutMs: 300 });
    // A grpc-js channel, whose connectivity state says whether the gate cut it.
    const transport = new GrpcJsTransport(`127.0.0.1:${port}`);
    const client = createClient(Glomseg, transport);
    expect((await client.listSlides({})).slides.length).toBeGreaterThan(0);
    const silent = await openIdle(port, false);
    const prefaceOnly = await openIdle(port, true);
    await Promise.all([closed(silent), closed(prefaceOnly)]);
    expect(app.grpcConnections().timedOut).toBeGreaterThanOrEqual(2);
    // The client that made a call was not cut: its channel is still READY and answers at once.
    expect(transport.connectivityState()).toBe(grpc.connectivityState.READY);
    expect((await client.listSlides({})).slides.length).toBeGreaterThan(0);
    transport.close();
  });

  it('lets new clients in while 5,000 idle sockets are open against a cap of 1,000', async () => {
    const { app, port } = await start({ maxConnections: 1000, handshakeTimeoutMs: 10 * 60_000 });
    for (let i = 0; i < 5000; i += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, k) => openIdle(port, (i + k) % 2 === 0)));
    }
    await until(() => app.grpcConnections().evicted >= 4000, 30_000);
    expect(app.grpcConnections().open).toBeLessThanOrEqual(1000);
    for (let round = 0; round < 3; round++) {
      const transport = new GrpcJsTransport(`127.0.0.1:${port}`);
      expect((await createClient(Glomseg, transport).listSlides({})).slides.length).toBeGreaterThan(0);
      transport.close();
    }
    expect(app.grpcConnections().refused).toBe(0);
  });
});

describe('gRPC connection gate with tokens', () => {
  it('keeps clients with the token in while peers without one fill the cap with refused and health calls', async () => {
    const { app, port } = await start(
      { maxConnections: 40, maxConnectionsPerPeer: 15, handshakeTimeoutMs: 10 * 60_000 },
      BearerTokens.fromList([TOKEN]),
    );
    // 60 token-less connections from 4 addresses, each making one call (refused, or health) and then staying open.
    const tokenless = () =>
      SocketAttack.start({
        host: '127.0.0.1',
        port,
        addresses: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'],
        count: 60,
        kinds: ['grpc-without-token', 'grpc-health'],
        batch: 1,
      }).then((attack) => (attacks.push(attack), attack));
    const { answers } = await tokenless();
    // The calls themselves were answered as before: refused without a token, health open.
    expect(answers.get(String(grpc.status.UNAUTHENTICATED))).toBeGreaterThan(0);
    expect(answers.get(String(grpc.status.OK))).toBeGreaterThan(0);
    expect(app.grpcConnections().open).toBeLessThanOrEqual(40);
    // Clients with the token, each on its own connection: every one gets in and is answered.
    const clients = Array.from({ length: 10 }, () =>
      glomsegClient(`127.0.0.1:${port}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    try {
      const statuses: number[] = [];
      for (const client of clients) statuses.push((await statusOf(client.listSlides({}))).code);
      expect(statuses).toEqual(clients.map(() => grpc.status.OK));
      // Their connections are now trusted: a second wave of token-less peers pushes out only untrusted ones.
      expect(app.grpcConnections().trusted).toBe(clients.length);
      await tokenless();
      expect(app.grpcConnections().trusted).toBe(clients.length);
      const again = await Promise.all(clients.map(async (client) => (await statusOf(client.listSlides({}))).code));
      expect(again).toEqual(clients.map(() => grpc.status.OK));
      expect(app.grpcConnections().refused).toBe(0);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it('bounds the sockets of one peer address: past it, the peer pushes out its own oldest untrusted socket', async () => {
    const { app, port } = await start(
      { maxConnections: 40, maxConnectionsPerPeer: 5, handshakeTimeoutMs: 10 * 60_000 },
      BearerTokens.fromList([TOKEN]),
    );
    const mine: net.Socket[] = [];
    for (let i = 0; i < 12; i++) mine.push(await openIdleFrom(port, '127.0.0.9'));
    await until(() => mine.filter((s) => !s.destroyed).length <= 5);
    // The oldest went first, and nobody else was touched: a socket from another address stays.
    expect(mine.slice(0, 7).every((s) => s.destroyed)).toBe(true);
    const other = await openIdleFrom(port, '127.0.0.10');
    for (let i = 0; i < 5; i++) mine.push(await openIdleFrom(port, '127.0.0.9'));
    await until(() => app.grpcConnections().evicted >= 12);
    expect(other.destroyed).toBe(false);
    expect(app.grpcConnections().open).toBe(6);
  });
});

function openIdleFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
    socket.on('error', () => undefined);
    socket.resume();
    socket.once('error', reject);
    sockets.push(socket);
  });
}
