/** bench:hardening's idle-socket case: many silent or preface-only sockets held open on the gRPC port. */
import net from 'node:net';
import { createClient } from '@connectrpc/connect';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { GrpcJsTransport } from '../client/grpc-js-transport.js';
import { DEFAULT_MAX_CONNECTIONS } from '../security/socket-gate.js';
import type { ServerProcess } from './server-process.js';

const IDLE_SOCKETS = Number(process.env.GLOMSEG_BENCH_IDLE_SOCKETS ?? 19_000);

/** The gRPC port under many idle sockets: a new client is still answered, and the gate evicts the silent ones. */
export async function idleSocketsCase(server: ServerProcess): Promise<void> {
  console.log(`\n## ${IDLE_SOCKETS} idle sockets (half silent, half HTTP/2 preface only) on the gRPC port`);
  const sockets: net.Socket[] = [];
  const [host, portText] = [
    server.address.slice(0, server.address.lastIndexOf(':')),
    server.address.slice(server.address.lastIndexOf(':') + 1),
  ];
  const preface = Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
  ]);
  let connected = 0;
  for (let i = 0; i < IDLE_SOCKETS; i += 500) {
    await Promise.all(
      Array.from(
        { length: Math.min(500, IDLE_SOCKETS - i) },
        (_, k) =>
          new Promise<void>((resolve) => {
            const socket = net.connect(Number(portText), host, () => {
              connected++;
              if ((i + k) % 2) socket.write(preface);
              resolve();
            });
            // Evicted sockets are reset by the server: an error here, after the connect above.
            socket.on('error', () => resolve());
            sockets.push(socket);
          }),
      ),
    );
  }
  const t0 = performance.now();
  const fresh = new GrpcJsTransport(server.address);
  const answered = await createClient(Glomseg, fresh)
    .listSlides({}, { timeoutMs: 30_000 })
    .then(() => 'OK', describeCallError);
  const ms = performance.now() - t0;
  fresh.close();
  const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const open = /^glomseg_grpc_connections_open (\d+)/m.exec(metrics)?.[1];
  const evicted = /^glomseg_grpc_connections_closed_total\{reason="evicted"\} (\d+)/m.exec(metrics)?.[1];
  console.log(
    `sockets connected ${connected}/${IDLE_SOCKETS}; then a new client's ListSlides: ${answered} in ${ms.toFixed(0)} ms; the server holds ${open} sockets (cap ${DEFAULT_MAX_CONNECTIONS}), evicted ${evicted}`,
  );
  for (const socket of sockets) socket.destroy();
}
