/**
 * Idle sockets cannot lock clients out of the gRPC port: sockets that never start a call (silent TCP, an HTTP/2
 * preface and nothing more) are closed after the handshake timeout, and at the connection cap a new client
 * pushes out the oldest of them. Real sockets on loopback against the real app; 5,000 idle sockets stand in
 * for the probe's 20,000 because this process holds both ends of each (two descriptors) under a 20,000 limit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { GlomsegApp } from '../../../server/src/app.js';
import { createClient } from '@connectrpc/connect';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { GrpcJsTransport } from '../../../server/src/grpc/grpc-js-transport.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { until } from '../../helpers/until.js';

const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
const apps: GlomsegApp[] = [];
const sockets: net.Socket[] = [];

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  for (const app of apps) await app.close();
});

async function start(connections: { maxConnections?: number; handshakeTimeoutMs?: number }): Promise<{ app: GlomsegApp; port: number }> {
  const app = await GlomsegApp.start({ slideFolders: [EVAL_REGION], modelFolder: MODELS, httpPort: false, device: 'cpu', connections });
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

const closed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

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
