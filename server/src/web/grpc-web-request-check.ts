/**
 * gRPC-Web requests whose bytes or headers cannot be read get INVALID_ARGUMENT in our words, like the native gRPC
 * port (the same WIRE_REFUSALS): connect parses the request before any handler or interceptor runs, and reports a
 * message that is not protobuf, a compressed flag with no grpc-encoding and some corrupt compressed bytes as
 * INTERNAL, which would call the client's bad bytes our bug, in its serializer's or zlib's words. Each route's
 * handler is wrapped to read the first (only) request message, decompress it as connect would (connect-node's own
 * compressions, bounded by the message limit), try it against the method's input schema, and either answer or
 * hand the message on (decompressed, so connect does not inflate it twice). Messages over the limit by their
 * length prefix pass through untouched: connect refuses them before reading them.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { compressionBrotli, compressionGzip } from '@connectrpc/connect-node';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { toConnectError } from '@glomseg/api/error-codes.js';
import { WIRE_REFUSALS } from '@glomseg/api/server/request-fields.js';

const ENVELOPE_HEADER = 5;
const COMPRESSED_FLAG = 0x01;
/** What connect's router decompresses (connectNodeAdapter's default acceptCompression); others it refuses itself. */
const COMPRESSIONS = new Map(
  [compressionGzip, compressionBrotli].map((compression) => [compression.name, compression]),
);
/** A gRPC timeout (PROTOCOL-HTTP2.md): 1 to 8 digits and a unit. */
const GRPC_TIMEOUT = /^\d{1,8}[HMSmun]$/;

function refusal(error: GlomsegError, contentType: string): UniversalServerResponse {
  const status = toConnectError(error);
  // Trailers-only: status in the headers, no body.
  const header = new Headers({
    'content-type': contentType,
    'grpc-status': String(status.code),
    'grpc-message': encodeURIComponent(status.rawMessage),
  });
  return { status: 200, header };
}

/** The first request message, decompressed when flagged, or the refusal of a message that cannot be. */
async function messageOf(
  payload: Uint8Array,
  flags: number,
  request: UniversalServerRequest,
  typeName: string,
  maxMessageBytes: number,
): Promise<Uint8Array | GlomsegError | undefined> {
  if (!(flags & COMPRESSED_FLAG)) return payload;
  const encoding = request.header.get('grpc-encoding');
  if (!encoding || encoding === 'identity') return WIRE_REFUSALS.compressedWithoutEncoding(typeName);
  const compression = COMPRESSIONS.get(encoding);
  if (!compression) return undefined;
  try {
    return await compression.decompress(payload, maxMessageBytes);
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.ResourceExhausted) {
      return new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `the request's ${typeName} message is larger than ${maxMessageBytes} bytes after decompression`,
      );
    }
    return WIRE_REFUSALS.notDecompressible(typeName);
  }
}

async function* replay(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function checked(handler: UniversalHandler, maxMessageBytes: number): UniversalHandler {
  const wrapped = async (request: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const contentType = request.header.get('content-type') ?? '';
    if (!contentType.startsWith('application/grpc-web') || contentType.includes('json') || !isByteStream(request.body))
      return handler(request);
    const timeout = request.header.get('grpc-timeout');
    if (timeout !== null && !GRPC_TIMEOUT.test(timeout)) return refusal(WIRE_REFUSALS.badTimeout(), contentType);
    const typeName = handler.method.input.typeName;
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
        if (declared > maxMessageBytes) break;
      }
      if (declared >= 0 && bytes >= ENVELOPE_HEADER + declared) break;
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      bytes += next.value.byteLength;
    }
    if (declared >= 0 && declared <= maxMessageBytes && bytes >= ENVELOPE_HEADER + declared) {
      const received = concat(head, bytes);
      const message = await messageOf(
        received.subarray(ENVELOPE_HEADER, ENVELOPE_HEADER + declared),
        flags,
        request,
        typeName,
        maxMessageBytes,
      );
      if (message instanceof GlomsegError) return refusal(message, contentType);
      if (message) {
        try {
          fromBinary(handler.method.input, message);
        } catch {
          return refusal(WIRE_REFUSALS.notProtobuf(typeName), contentType);
        }
        // Hand on the message as connect would have decompressed it, then whatever followed it.
        if (flags & COMPRESSED_FLAG)
          head.splice(0, head.length, envelope(message), received.subarray(ENVELOPE_HEADER + declared));
      }
    }
    return handler({ ...request, body: replay(head, iterator) });
  };
  return Object.assign(wrapped, handler);
}

/** One uncompressed length-prefixed message. */
function envelope(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER + message.byteLength);
  new DataView(out.buffer).setUint32(1, message.byteLength);
  out.set(message, ENVELOPE_HEADER);
  return out;
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
export function withRequestCheck(
  routes: (router: ConnectRouter) => void,
  maxMessageBytes: number,
): (router: ConnectRouter) => void {
  return (router) => {
    routes(router);
    router.handlers.forEach((handler, index) => {
      router.handlers[index] = checked(handler, maxMessageBytes);
    });
  };
}
