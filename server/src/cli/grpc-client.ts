/** A thin promise/async-iterable wrapper over the @grpc/grpc-js client, for the CLI and other Node callers. */
import * as grpc from '@grpc/grpc-js';
import { createGlomsegClient } from '../grpc/proto.js';
import { balancedChannelOptions } from './grpc-target.js';
import type { ClientAuth } from './client-credentials.js';

export class GlomsegClient {
  private readonly client: grpc.Client & Record<string, any>;
  private readonly metadata: grpc.Metadata;

  private constructor(readonly address: string, auth?: ClientAuth) {
    this.client = createGlomsegClient(address, auth?.credentials, balancedChannelOptions());
    this.metadata = auth?.metadata ?? new grpc.Metadata();
  }

  /** Connects and waits until the server answers (or the deadline passes, with a clear message). */
  static async connect(address: string, timeoutMs = 10_000, auth?: ClientAuth): Promise<GlomsegClient> {
    const wrapper = new GlomsegClient(address, auth);
    await new Promise<void>((resolve, reject) =>
      wrapper.client.waitForReady(Date.now() + timeoutMs, (error?: Error) =>
        error ? reject(new Error(`cannot reach a glomseg server at ${address}: ${error.message}`)) : resolve(),
      ),
    );
    return wrapper;
  }

  unary<T = any>(method: string, request: object, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call = this.client[method](request, this.metadata, (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve(response)));
      signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  /** A server stream's messages; `peer.address` is set to the server that answers (with several behind a target). */
  async *stream<T = any>(method: string, request: object, signal?: AbortSignal, peer?: { address?: string }): AsyncGenerator<T> {
    const call: grpc.ClientReadableStream<T> = this.client[method](request, this.metadata);
    call.once('metadata', () => {
      if (peer) peer.address = call.getPeer();
    });
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const message of call) yield message as T;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }
}

/** A gRPC error's status name and message, for people. */
export function describeGrpcError(error: unknown): string {
  const e = error as Partial<grpc.ServiceError>;
  if (typeof e?.code === 'number') return `${grpc.status[e.code] ?? e.code}: ${e.details ?? e.message}`;
  return error instanceof Error ? error.message : String(error);
}
