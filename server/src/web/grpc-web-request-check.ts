/**
 * gRPC-Web requests whose message is not valid protobuf get INVALID_ARGUMENT, like the native gRPC port: connect
 * parses the request before any handler or interceptor runs and reports a parse failure as INTERNAL, which would
 * call the client's bad bytes our bug. Each route's handler is wrapped to read the first (only) request message,
 * try it against the method's input schema, and either answer INVALID_ARGUMENT or hand the same bytes on.
 * Compressed and oversized messages pass through untouched: connect decompresses and bounds them.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { grpcStatusOf } from '@glomseg/api/error-codes.js';

const ENVELOPE_HEADER = 5;
const COMPRESSED_FLAG = 0x01;

function refusal(message: string, contentType: string): UniversalServerResponse {
  // Trailers-only: status in the headers, no body.
  const header = new Headers({ 'content-type': contentType, 'grpc-status': String(grpcStatusOf('INVALID_ARGUMENT')), 'grpc-message': encodeURIComponent(message) });
  return { status: 200, header };
}

async function* replay(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function checked(handler: UniversalHandler, maxMessageBytes: number): UniversalHandler {
  const wrapped = async (request: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const contentType = request.header.get('content-type') ?? '';
    if (!contentType.startsWith('application/grpc-web') || contentType.includes('json') || !isByteStream(request.body)) return handler(request);
    const iterator = request.body[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let bytes = 0;
    let declared = -1;
    let flags = 0;
    // Read until the first envelope is complete, or the stream ends.
    for (;;) {
      if (declared < 0 && bytes >= ENVELOPE_HEADER) {
        const first = concat(head, ENVELOPE_HEADER);
        flags = first[0];
        declared = new DataView(first.buffer, first.byteOffset, ENVELOPE_HEADER).getUint32(1);
        if (flags & COMPRESSED_FLAG || declared > maxMessageBytes) break;
      }
      if (declared >= 0 && bytes >= ENVELOPE_HEADER + declared) break;
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      bytes += next.value.byteLength;
    }
    const body = replay(head, iterator);
    if (declared >= 0 && !(flags & COMPRESSED_FLAG) && declared <= maxMessageBytes && bytes >= ENVELOPE_HEADER + declared) {
      const message = concat(head, ENVELOPE_HEADER + declared).subarray(ENVELOPE_HEADER);
      try {
        fromBinary(handler.method.input, message);
      } catch (error) {
        return refusal(`the request is not a valid ${handler.method.input.typeName} message: ${(error as Error).message}`, contentType);
      }
    }
    return handler({ ...request, body });
  };
  return Object.assign(wrapped, handler);
}

function isByteStream(body: UniversalServerRequest['body']): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

/** The first `length` bytes of `chunks`, as one array. */
function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    if (at >= length) break;
    const take = chunk.subarray(0, length - at);
    out.set(take, at);
    at += take.byteLength;
  }
  return out;
}

/** Wraps `routes` so that every handler it registers checks its request message first. */
export function withRequestCheck(routes: (router: ConnectRouter) => void, maxMessageBytes: number): (router: ConnectRouter) => void {
  return (router) => {
    routes(router);
    router.handlers.forEach((handler, index) => {
      router.handlers[index] = checked(handler, maxMessageBytes);
    });
  };
}
