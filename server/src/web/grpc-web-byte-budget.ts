/**
 * The request byte budget (validation/request-byte-budget.ts) on the HTTP port's gRPC-Web routes: each route's
 * handler is wrapped to read the request's first 5 bytes (the message's length prefix), take that many bytes from
 * the budget before the rest of the body is read, and give them back when the response has been sent, or the
 * browser went away. A request that does not fit gets RESOURCE_EXHAUSTED at once, its body dropped unbuffered.
 * Outermost of the route wrappers, so it charges the body as it comes off the wire.
 */
import type { ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import { toConnectError } from '@glomseg/api/error-codes.js';
import {
  chargedBytes,
  MESSAGE_PREFIX_BYTES,
  type ByteLease,
  type RequestByteBudget,
} from '../validation/request-byte-budget.js';

async function* replay(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/** The response body, giving the request's bytes back when it has been sent in full or given up. */
async function* releasing(body: AsyncIterable<Uint8Array>, release: () => void): AsyncIterable<Uint8Array> {
  try {
    yield* body;
  } finally {
    release();
  }
}

/**
 * Reads and drops a refused request's body (chunk by chunk, so it holds no memory), up to one message; the client
 * then reads the refusal instead of a reset connection. A body that goes on past that has its connection closed.
 */
async function discard(rest: AsyncIterator<Uint8Array>, limit: number): Promise<void> {
  try {
    for (let dropped = 0; dropped <= limit;) {
      const next = await rest.next();
      if (next.done) return;
      dropped += next.value.byteLength;
    }
    await rest.return?.();
  } catch {
    // The client went away: nothing left to drop.
  }
}

function prefixOf(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(MESSAGE_PREFIX_BYTES);
  let at = 0;
  for (const chunk of chunks) {
    const take = chunk.subarray(0, MESSAGE_PREFIX_BYTES - at);
    out.set(take, at);
    at += take.byteLength;
    if (at === MESSAGE_PREFIX_BYTES) break;
  }
  return out;
}

function budgeted(handler: UniversalHandler, budget: RequestByteBudget, maxMessageBytes: number): UniversalHandler {
  const what = handler.method.name;
  const wrapped = async (request: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || !(Symbol.asyncIterator in body)) return handler(request);
    const iterator = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let bytes = 0;
    while (bytes < MESSAGE_PREFIX_BYTES) {
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      bytes += next.value.byteLength;
    }
    let lease: ByteLease | undefined;
    if (bytes >= MESSAGE_PREFIX_BYTES) {
      try {
        lease = budget.take(chargedBytes(prefixOf(head), maxMessageBytes), what);
      } catch (error) {
        if (!isGlomsegError(error)) throw error;
        const status = toConnectError(error);
        // Trailers-only: the status in the headers, no body; the request's body is dropped unread.
        const header = new Headers({
          'content-type': request.header.get('content-type') ?? 'application/grpc-web+proto',
          'grpc-status': String(status.code),
          'grpc-message': encodeURIComponent(status.rawMessage),
        });
        void discard(iterator, maxMessageBytes + MESSAGE_PREFIX_BYTES);
        return { status: 200, header };
      }
    }
    const release = () => lease?.release();
    request.signal.addEventListener('abort', release, { once: true });
    try {
      const response = await handler({ ...request, body: replay(head, iterator) });
      if (response.body === undefined) {
        release();
        return response;
      }
      return { ...response, body: releasing(response.body, release) };
    } catch (error) {
      release();
      throw error;
    }
  };
  return Object.assign(wrapped, handler);
}

/** Wraps `routes` so that every handler it registers takes its request's bytes from `budget` first. */
export function withByteBudget(
  routes: (router: ConnectRouter) => void,
  budget: RequestByteBudget,
  maxMessageBytes: number,
): (router: ConnectRouter) => void {
  return (router) => {
    routes(router);
    router.handlers.forEach((handler, index) => {
      router.handlers[index] = budgeted(handler, budget, maxMessageBytes);
    });
  };
}
