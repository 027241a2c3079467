/**
 * A connect Transport over a @grpc/grpc-js channel, so Node callers (CLI, benches, tests) get connect's typed client
 * (`createClient(Glomseg, transport)`) and keep what grpc-js channels do: any gRPC target (dns:///, ipv4: lists)
 * with round-robin balancing, keepalive, TLS credentials, waitForReady.
 */
import * as grpc from '@grpc/grpc-js';
import {
  create,
  type DescMessage,
  type DescMethodStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextKey,
  type ContextValues,
  type StreamResponse,
  type Transport,
  type UnaryResponse,
} from '@connectrpc/connect';
import { headersFromMetadata } from '../grpc/metadata-headers.js';
import { deserializer, serializer } from '../grpc/service-definition.js';

/** Set a fresh `{}` under this key in a call's contextValues to learn which server answered (host:port). */
export const ANSWERING_PEER = createContextKey<{ address?: string } | undefined>(undefined, {
  description: 'the server that answered the call',
});

export interface GrpcJsTransportOptions {
  credentials?: grpc.ChannelCredentials;
  /** Sent with every call (e.g. authorization). */
  metadata?: grpc.Metadata;
  channelOptions?: grpc.ChannelOptions;
}

/** Replies may hold a whole slide's annotations echo or many tiles; requests carry annotations. */
export const CLIENT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

function asConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const e = error as Partial<grpc.ServiceError>;
  if (typeof e?.code === 'number')
    return new ConnectError(
      e.details ?? e.message ?? '',
      e.code as number as Code,
      e.metadata ? headersFromMetadata(e.metadata) : undefined,
    );
  return ConnectError.from(error);
}

/** Cancels `call` when `signal` aborts (at once if it has); returns the undo. */
function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): () => void {
  const onAbort = () => call.cancel();
  if (signal?.aborted) call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  return () => signal?.removeEventListener('abort', onAbort);
}

export class GrpcJsTransport implements Transport {
  private readonly channel: grpc.Client;
  private readonly metadata: grpc.Metadata;

  constructor(
    readonly address: string,
    options: GrpcJsTransportOptions = {},
  ) {
    this.channel = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': CLIENT_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': CLIENT_MAX_MESSAGE_BYTES,
      ...options.channelOptions,
    });
    this.metadata = options.metadata ?? new grpc.Metadata();
  }

  /** Waits until the channel is connected, or fails after `timeoutMs` with a message naming the address. */
  async ready(timeoutMs = 10_000): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.channel.waitForReady(Date.now() + timeoutMs, (error?: Error) =>
        error
          ? reject(
              new ConnectError(`cannot reach a glomseg server at ${this.address}: ${error.message}`, Code.Unavailable),
            )
          : resolve(),
      ),
    );
  }

  close(): void {
    this.channel.close();
  }

  /** The channel's state now (READY, IDLE, ...), without asking it to connect. */
  connectivityState(): grpc.connectivityState {
    return this.channel.getChannel().getConnectivityState(false);
  }

  private callMetadata(header: HeadersInit | undefined): grpc.Metadata {
    const metadata = this.metadata.clone();
    new Headers(header).forEach((value, key) => metadata.set(key, value));
    return metadata;
  }

  private static path(method: DescMethodUnary | DescMethodStreaming): string {
    return `/${method.parent.typeName}/${method.name}`;
  }

  /** What grpc-js takes first for any call, in its order: path, codecs, the request, metadata and call options. */
  private callArgs<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O> | DescMethodStreaming<I, O>,
    input: MessageInitShape<I> | undefined,
    header: HeadersInit | undefined,
    timeoutMs: number | undefined,
  ) {
    return [
      GrpcJsTransport.path(method),
      serializer(method.input),
      deserializer(method.output),
      create(method.input, input),
      this.callMetadata(header),
      timeoutMs ? { deadline: Date.now() + timeoutMs } : {},
    ] as const;
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
  ): Promise<UnaryResponse<I, O>> {
    return new Promise((resolve, reject) => {
      let release = () => {};
      const call = this.channel.makeUnaryRequest<MessageShape<I>, MessageShape<O>>(
        ...this.callArgs(method, input, header, timeoutMs),
        (error, message) => {
          release();
          if (error || !message) return reject(asConnectError(error));
          resolve({
            stream: false,
            service: method.parent,
            method,
            header: new Headers(),
            message,
            trailer: new Headers(),
          });
        },
      );
      release = cancelOnAbort(call, signal);
    });
  }

  /** Server streaming (the only kind glomseg has): the one request message is the input's first. */
  async stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    if (method.methodKind !== 'server_streaming')
      throw new ConnectError(`${method.methodKind} calls are not supported by this transport`, Code.Unimplemented);
    let request: MessageInitShape<I> | undefined;
    for await (const message of input) {
      request = message;
      break;
    }
    const call = this.channel.makeServerStreamRequest<MessageShape<I>, MessageShape<O>>(
      ...this.callArgs(method, request, header, timeoutMs),
    );
    const release = cancelOnAbort(call, signal);
    const responseHeader = new Headers();
    call.once('metadata', (metadata: grpc.Metadata) => {
      headersFromMetadata(metadata).forEach((value, key) => responseHeader.append(key, value));
      const peer = contextValues?.get(ANSWERING_PEER);
      if (peer) peer.address = call.getPeer();
    });
    async function* messages(): AsyncGenerator<MessageShape<O>> {
      try {
        for await (const message of call) yield message as MessageShape<O>;
      } catch (error) {
        throw asConnectError(error);
      } finally {
        release();
        call.cancel();
      }
    }
    return {
      stream: true,
      service: method.parent,
      method,
      header: responseHeader,
      message: messages(),
      trailer: new Headers(),
    };
  }
}
