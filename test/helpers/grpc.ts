/**
 * Typed glomseg clients for the integration tests, over connect-node's own gRPC transport (HTTP/2, not grpc-js),
 * so the server is called by another gRPC implementation than the one serving it.
 */
import type * as http2 from 'node:http2';
import { ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { Health } from '@glomseg/api/gen/health/v1/health_pb.js';

export type GlomsegTestClient = Client<typeof Glomseg> & { close(): void };

export interface TestClientOptions {
  /** Sent with every call (e.g. authorization). */
  headers?: Record<string, string>;
  /** TLS: https:// with these options (ca, cert, key). */
  tls?: http2.SecureClientSessionOptions;
  /** The client's receive limit (default: unlimited). */
  readMaxBytes?: number;
}

function transportTo(address: string, options: TestClientOptions = {}) {
  const baseUrl = `${options.tls ? 'https' : 'http'}://${address}`;
  const sessionManager = new Http2SessionManager(baseUrl, undefined, options.tls);
  const transport = createGrpcTransport({
    baseUrl,
    sessionManager,
    readMaxBytes: options.readMaxBytes,
    interceptors: options.headers
      ? [
          (next) => (request) => {
            for (const [name, value] of Object.entries(options.headers!)) request.header.set(name, value);
            return next(request);
          },
        ]
      : [],
  });
  return { transport, close: () => sessionManager.abort() };
}

export function glomsegClient(address: string, options?: TestClientOptions): GlomsegTestClient {
  const { transport, close } = transportTo(address, options);
  return Object.assign(createClient(Glomseg, transport), { close });
}

export type HealthTestClient = Client<typeof Health> & { close(): void };

export function healthClient(address: string, options?: TestClientOptions): HealthTestClient {
  const { transport, close } = transportTo(address, options);
  return Object.assign(createClient(Health, transport), { close });
}

export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of stream) out.push(message);
  return out;
}

/** The gRPC status a call (or a whole stream) ends with: 0 (OK) when it succeeds. */
export async function statusOf(
  call: Promise<unknown> | AsyncIterable<unknown>,
): Promise<{ code: number; details: string }> {
  try {
    if (Symbol.asyncIterator in call) await collect(call as AsyncIterable<unknown>);
    else await call;
    return { code: 0, details: '' };
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, details: e.rawMessage };
  }
}
