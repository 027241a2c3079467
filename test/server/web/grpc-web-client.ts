/**
 * A gRPC-Web client written for the tests from the protocol spec (github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md),
 * independent of connect: raw fetch, hand-parsed length-prefixed frames (0x00 data, 0x80 trailers), and protobufjs
 * messages loaded from proto/glomseg/v1/glomseg.proto.
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { REPO_ROOT } from '../../helpers/paths.js';

export const root = protobuf.loadSync(path.join(REPO_ROOT, 'proto/glomseg/v1/glomseg.proto'));
export const type = (name: string) => root.lookupType(`glomseg.v1.${name}`);

export interface GrpcWebReply {
  httpStatus: number;
  headers: Headers;
  /** Decoded data frames, in order, with the time each was complete (ms since the request). */
  messages: Array<Record<string, any>>;
  arrivals: number[];
  /** grpc-status and grpc-message, from the trailer frame or (trailers-only) the HTTP headers. */
  status: number;
  message: string;
  trailerFrameSeen: boolean;
}

function encodeFrame(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(new ArrayBuffer(5 + payload.length));
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, 5);
  return frame;
}

function parseTrailers(bytes: Uint8Array): Map<string, string> {
  const trailers = new Map<string, string>();
  for (const line of new TextDecoder().decode(bytes).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return trailers;
}

/**
 * Calls `method` with `request` and reads the reply frame by frame as it streams in. `onMessage` may return
 * true to stop reading and abort the fetch (a client going away mid-stream).
 */
export async function callGrpcWeb(
  baseUrl: string,
  method: string,
  requestType: string,
  responseType: string,
  request: Record<string, unknown>,
  options: {
    onMessage?: (message: Record<string, any>, index: number) => boolean | void;
    headers?: Record<string, string>;
  } = {},
): Promise<GrpcWebReply> {
  const started = performance.now();
  const requestMessage = type(requestType);
  const body = encodeFrame(requestMessage.encode(requestMessage.fromObject(request)).finish());
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/glomseg.v1.Glomseg/${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/grpc-web+proto',
      'x-grpc-web': '1',
      'x-user-agent': 'glomseg-test/1',
      ...options.headers,
    },
    body,
    signal: controller.signal,
  });
  const reply: GrpcWebReply = {
    httpStatus: response.status,
    headers: response.headers,
    messages: [],
    arrivals: [],
    status: Number(response.headers.get('grpc-status') ?? NaN),
    message: decodeURIComponent(response.headers.get('grpc-message') ?? ''),
    trailerFrameSeen: false,
  };
  const decoder = type(responseType);
  const reader = response.body!.getReader();
  let buffer = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer);
    joined.set(value, buffer.length);
    buffer = joined;
    while (buffer.length >= 5) {
      const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(1);
      if (buffer.length < 5 + length) break;
      const flags = buffer[0];
      const payload = buffer.subarray(5, 5 + length);
      buffer = buffer.subarray(5 + length);
      if (flags & 0x80) {
        const trailers = parseTrailers(payload);
        reply.trailerFrameSeen = true;
        reply.status = Number(trailers.get('grpc-status'));
        reply.message = decodeURIComponent(trailers.get('grpc-message') ?? '');
        continue;
      }
      const message = decoder.toObject(decoder.decode(payload), { longs: Number, enums: String, defaults: true });
      reply.messages.push(message);
      reply.arrivals.push(performance.now() - started);
      if (options.onMessage?.(message, reply.messages.length - 1)) {
        controller.abort();
        await reader.cancel().catch(() => undefined);
        return reply;
      }
    }
  }
  return reply;
}
