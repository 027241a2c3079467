/**
 * gRPC-Web requests whose bytes or headers cannot be read, sent raw with fetch to the real server: each is
 * INVALID_ARGUMENT in our words (no serializer or zlib internals), compressed or not, and the server serves the
 * next call.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { frame } from '../grpc/raw-grpc.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const SLIDE = 'kidney-region.tif';
const slideIdField = [0x0a, SLIDE.length, ...Buffer.from(SLIDE)];
/** A field tag and nothing after it. */
const NOT_PROTOBUF = Uint8Array.from([0x0a]);
/** Library words that must not reach clients: connect's serializer, protobuf-es and zlib. */
const LIBRARY_WORDS =
  /parse binary|premature|EOF|wire type|decompression failed|incorrect header|unexpected end|internal|do not know how/i;

const served = useGrpcApp({ httpPort: 0, grpcPort: 0 });

async function grpcWeb(
  method: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: string | null; message: string }> {
  const response = await fetch(`${served.app.httpUrl}/glomseg.v1.Glomseg/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', ...headers },
    body: new Uint8Array(body),
  });
  const text = Buffer.from(await response.arrayBuffer()).toString('latin1');
  const status = response.headers.get('grpc-status') ?? /grpc-status:\s*(\d+)/.exec(text)?.[1] ?? null;
  const raw = response.headers.get('grpc-message') ?? /grpc-message:\s*([^\r\n]*)/.exec(text)?.[1] ?? '';
  return { status, message: decodeURIComponent(raw) };
}

async function stillServing(): Promise<void> {
  const { status } = await grpcWeb('GetSlideInfo', frame(Uint8Array.from(slideIdField)));
  expect(status).toBe('0');
}

const CASES: Array<{ name: string; headers?: Record<string, string>; body: Uint8Array; message: RegExp }> = [
  {
    name: 'a message that is not protobuf',
    body: frame(NOT_PROTOBUF),
    message: /^the request is not a valid glomseg\.v1\.\w+Request message: its bytes do not parse as protobuf/,
  },
  {
    name: 'a gzip-compressed message that is not protobuf',
    headers: { 'grpc-encoding': 'gzip' },
    body: frame(gzipSync(NOT_PROTOBUF), 1),
    message: /^the request is not a valid glomseg\.v1\.\w+Request message/,
  },
  {
    name: 'a brotli-compressed message that is not protobuf',
    headers: { 'grpc-encoding': 'br' },
    body: frame(brotliCompressSync(NOT_PROTOBUF), 1),
    message: /^the request is not a valid glomseg\.v1\.\w+Request message/,
  },
  {
    name: 'the compressed flag with no grpc-encoding',
    body: frame(gzipSync(Uint8Array.from(slideIdField)), 1),
    message: /message is flagged compressed, but the call names no grpc-encoding/,
  },
  {
    name: 'corrupt gzip',
    headers: { 'grpc-encoding': 'gzip' },
    body: frame(Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02]), 1),
    message: /message could not be decompressed with the call's grpc-encoding/,
  },
  {
    name: 'truncated gzip',
    headers: { 'grpc-encoding': 'gzip' },
    body: frame(gzipSync(Uint8Array.from(slideIdField)).subarray(0, 12), 1),
    message: /message could not be decompressed with the call's grpc-encoding/,
  },
  {
    name: 'deflate bytes under a gzip encoding',
    headers: { 'grpc-encoding': 'gzip' },
    body: frame(deflateSync(Uint8Array.from(slideIdField)), 1),
    message: /message could not be decompressed with the call's grpc-encoding/,
  },
  {
    name: 'a garbage grpc-timeout',
    headers: { 'grpc-timeout': 'soon' },
    body: frame(Uint8Array.from(slideIdField)),
    message: /grpc-timeout header .* is not a gRPC timeout/,
  },
];

describe('gRPC-Web requests that cannot be read', () => {
  for (const method of ['GetSlideInfo', 'StreamTiles']) {
    it.each(CASES)(`${method}: $name is INVALID_ARGUMENT in our words`, async ({ headers, body, message }) => {
      const reply = await grpcWeb(method, body, headers);
      expect(reply.status).toBe(String(grpc.status.INVALID_ARGUMENT));
      expect(reply.message).toMatch(message);
      expect(reply.message).not.toMatch(LIBRARY_WORDS);
      await stillServing();
    });
  }

  it('serves compressed and uncompressed valid messages (the crafted frames are right)', async () => {
    for (const [body, headers] of [
      [frame(Uint8Array.from(slideIdField)), {}],
      [frame(gzipSync(Uint8Array.from(slideIdField)), 1), { 'grpc-encoding': 'gzip' }],
      [frame(brotliCompressSync(Uint8Array.from(slideIdField)), 1), { 'grpc-encoding': 'br', 'grpc-timeout': '30S' }],
    ] as const) {
      const reply = await grpcWeb('GetSlideInfo', body, headers);
      expect(reply.status, JSON.stringify(headers)).toBe('0');
    }
  });
});
