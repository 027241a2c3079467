/**
 * The first interceptor on the gRPC port: the only one grpc-js hands its own call object, which owns the HTTP/2
 * stream. Two things grpc-js decides there without our handlers:
 * - Requests it cannot take (bytes that are not protobuf, a compressed flag with no or a broken grpc-encoding, a
 *   garbage grpc-timeout) it ends with INTERNAL in its own words. They are the client's fault: they become
 *   INVALID_ARGUMENT in ours, through the one error table (api/src/error-codes.ts).
 * - A call whose client stops reading holds its unsent messages, and the work behind them, for ever. After
 *   `writeStallMs` with a message still unsent the stream is reset with ENHANCE_YOUR_CALM, which the gRPC spec
 *   (PROTOCOL-HTTP2.md) and grpc-js clients read as RESOURCE_EXHAUSTED; the handler sees a cancelled call and
 *   frees what it held. A status in trailers cannot reach such a client: HTTP/2 queues trailers behind unsent data.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { DescService } from '@bufbuild/protobuf';
import type { GlomsegError } from '@glomseg/shared/errors.js';
import { toConnectError } from '@glomseg/api/error-codes.js';
import { WIRE_REFUSALS } from '@glomseg/api/server/request-fields.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { Health } from '@glomseg/api/gen/health/v1/health_pb.js';

type Log = (message: string) => void;
type PartialStatus = Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0];

export interface GrpcJsEdgeOptions {
  /** A message unsent for this long resets its stream (RESOURCE_EXHAUSTED). */
  writeStallMs: number;
  log?: Log;
}

/** grpc-js's own refusals of a request (grpc-js 1.14 server-interceptors.ts), by the start of its message. */
const REFUSALS: Array<{ grpcJs: RegExp; ours: (typeName: string) => GlomsegError }> = [
  { grpcJs: /^Error deserializing request/, ours: WIRE_REFUSALS.notProtobuf },
  { grpcJs: /^Failed to decompress message/, ours: WIRE_REFUSALS.notDecompressible },
  { grpcJs: /^Invalid grpc-timeout value/, ours: WIRE_REFUSALS.badTimeout },
];

/** Request message type names by method path, for the messages; other services' requests are just "protobuf". */
const REQUEST_TYPES = new Map<string, string>(
  ([Glomseg, Health] as DescService[]).flatMap((service) =>
    service.methods.map((method) => [`/${service.typeName}/${method.name}`, method.input.typeName] as const),
  ),
);

/** grpc-js's INTERNAL for a request it could not take, as our INVALID_ARGUMENT; any other status as it is. */
function ourStatus(status: PartialStatus, path: string): PartialStatus {
  if (status.code !== grpc.status.INTERNAL) return status;
  const refusal = REFUSALS.find(({ grpcJs }) => grpcJs.test(status.details ?? ''));
  if (!refusal) return status;
  const error = toConnectError(refusal.ours(REQUEST_TYPES.get(path) ?? 'protobuf'));
  return { ...status, code: error.code as number as grpc.status, details: error.rawMessage };
}

/** What this interceptor reads of grpc-js's base call (server-interceptors.ts, BaseServerInterceptingCall). */
interface BaseCall extends grpc.ServerInterceptingCallInterface {
  stream?: http2.ServerHttp2Stream;
}

function streamOf(call: grpc.ServerInterceptingCallInterface): http2.ServerHttp2Stream | undefined {
  const stream = (call as BaseCall).stream;
  return stream && typeof stream.close === 'function' && typeof stream.respond === 'function' ? stream : undefined;
}

/** Must come first in the server's interceptor list: later ones get a wrapped call, not grpc-js's own. */
export function grpcJsEdge(options: GrpcJsEdgeOptions): grpc.ServerInterceptor {
  let warned = false;
  return (method, call) => {
    const stream = streamOf(call);
    if (!stream) {
      if (!warned)
        options.log?.('grpc-js edge: not the first interceptor, or grpc-js changed; bad requests may end INTERNAL');
      warned = true;
      return new grpc.ServerInterceptingCall(call);
    }
    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (status) => sendStatus(ourStatus(status, method.path));
    watchWrites(call, stream, method.path, options);
    return new grpc.ServerInterceptingCall(call);
  };
}

/** Resets the stream when a message stays unsent for `writeStallMs`; each message that goes out restarts the clock. */
function watchWrites(
  call: grpc.ServerInterceptingCallInterface,
  stream: http2.ServerHttp2Stream,
  path: string,
  options: GrpcJsEdgeOptions,
): void {
  let unsent = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const reset = () => {
    timer = undefined;
    options.log?.(
      `${path}: the client took no data for ${options.writeStallMs / 1000} s; its stream is reset (RESOURCE_EXHAUSTED) and its work stopped`,
    );
    // Closing with an error code makes the stream emit 'error'; grpc-js listens once only.
    stream.on('error', () => undefined);
    stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  };
  const arm = () => {
    stop();
    timer = setTimeout(reset, options.writeStallMs);
  };
  stream.once('close', stop);
  const sendMessage = call.sendMessage.bind(call);
  call.sendMessage = (message, callback) => {
    if (unsent++ === 0) arm();
    sendMessage(message, () => {
      if (--unsent === 0) stop();
      else arm();
      callback();
    });
  };
}
