/**
 * What grpc-js decides on its own, around our handlers, against the real server over loopback:
 * - request bytes and headers it cannot take (crafted HTTP/2 frames, and Debian's python3-grpcio sending raw
 *   bytes) get INVALID_ARGUMENT in our words, not grpc-js's INTERNAL, and the server serves the next call;
 * - a stream whose client never reads (an HTTP/2 receive window of 0: not one byte can be sent) is reset after
 *   the write-stall limit, which clients read as RESOURCE_EXHAUSTED, and its work stops, while other clients are
 *   served throughout.
 */
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectGlomseg, type GlomsegApi } from '../../../server/src/client/grpc-client.js';
import { collect, glomsegClient } from '../../helpers/grpc.js';
import { until } from '../../helpers/until.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';
import { frame, rawGrpcCall } from './raw-grpc.js';

const run = promisify(execFile);
const SLIDE = 'kidney-region.tif';

const served = useGrpcApp();

/** A valid GetSlideInfoRequest / StreamTilesRequest for the eval slide (field 1: slide_id; 2: tiles). */
const slideIdField = [0x0a, SLIDE.length, ...Buffer.from(SLIDE)];
const VALID: Record<string, number[]> = {
  '/glomseg.v1.Glomseg/GetSlideInfo': slideIdField,
  '/glomseg.v1.Glomseg/StreamTiles': [...slideIdField, 0x1a, 0x00],
  '/grpc.health.v1.Health/Check': [],
};
/** A field tag and nothing after it: no protobuf library (protobuf-es, protobufjs for Health) parses it. */
const NOT_PROTOBUF = Uint8Array.from([0x0a]);

async function stillServing(): Promise<void> {
  const client = glomsegClient(served.app.grpcAddress);
  try {
    expect((await client.listSlides({})).slides.map((s) => s.id)).toContain(SLIDE);
  } finally {
    client.close();
  }
}

/** grpc-js's own words for these cases, which must not reach clients. */
const LIBRARY_WORDS = /deserializ|Failed to decompress|Invalid grpc-timeout|internal/i;

const CASES: Array<{
  name: string;
  headers?: Record<string, string>;
  body: (path: string) => Uint8Array;
  message: RegExp;
}> = [
  {
    name: 'a message that is not valid protobuf',
    body: () => frame(NOT_PROTOBUF),
    message: /^the request is not a valid [\w.]+Request message: its bytes do not parse as protobuf/,
  },
  {
    name: 'the compressed flag with no grpc-encoding',
    body: (path) => frame(gzipSync(Uint8Array.from(VALID[path])), 1),
    message: /is not a valid [\w.]+Request message: .*grpc-encoding/,
  },
  {
    name: 'corrupt gzip',
    headers: { 'grpc-encoding': 'gzip' },
    body: () => frame(Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02]), 1),
    message: /[\w.]+Request message could not be decompressed with the call's grpc-encoding/,
  },
  {
    name: 'corrupt deflate',
    headers: { 'grpc-encoding': 'deflate' },
    body: () => frame(Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 1),
    message: /[\w.]+Request message could not be decompressed with the call's grpc-encoding/,
  },
  {
    name: 'a garbage grpc-timeout',
    headers: { 'grpc-timeout': 'soon' },
    body: (path) => frame(Uint8Array.from(VALID[path])),
    message: /grpc-timeout header .* is not a gRPC timeout/,
  },
];

describe('bad bytes and headers from a raw HTTP/2 client', () => {
  for (const path of Object.keys(VALID)) {
    it.each(CASES)(`${path}: $name is INVALID_ARGUMENT in our words`, async ({ headers, body, message }) => {
      const status = await rawGrpcCall(served.app.grpcAddress, { path, headers, body: body(path) });
      expect(status.status).toBe(String(grpc.status.INVALID_ARGUMENT));
      expect(status.message).toMatch(message);
      expect(status.message).not.toMatch(LIBRARY_WORDS);
      await stillServing();
    });
  }

  it('still answers a valid raw message (the crafted frames are right)', async () => {
    const status = await rawGrpcCall(served.app.grpcAddress, {
      path: '/glomseg.v1.Glomseg/GetSlideInfo',
      body: frame(Uint8Array.from(slideIdField)),
    });
    expect(status.status).toBe('0');
    const compressed = await rawGrpcCall(served.app.grpcAddress, {
      path: '/glomseg.v1.Glomseg/GetSlideInfo',
      headers: { 'grpc-encoding': 'gzip', 'grpc-timeout': '30S' },
      body: frame(gzipSync(Uint8Array.from(slideIdField)), 1),
    });
    expect(compressed.status).toBe('0');
  });
});

describe('an independent client (python3-grpcio) sending raw bytes', () => {
  it('gets INVALID_ARGUMENT in our words for unary and streaming calls', async () => {
    const script = `
import json, sys, grpc
channel = grpc.insecure_channel(sys.argv[1])
out = []
for path, kind in [('/glomseg.v1.Glomseg/GetSlideInfo', 'unary'), ('/glomseg.v1.Glomseg/StreamTiles', 'stream'), ('/glomseg.v1.Glomseg/ListSlides', 'unary')]:
    try:
        if kind == 'unary':
            channel.unary_unary(path)(b'\\x0a\\x7f\\x61' if 'Info' in path else b'', timeout=60)
        else:
            list(channel.unary_stream(path)(b'\\x0f\\x01', timeout=60))
        out.append([path, 'OK', ''])
    except grpc.RpcError as error:
        out.append([path, error.code().name, error.details()])
print(json.dumps(out))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, served.app.grpcAddress], { timeout: 120_000 });
    const results = JSON.parse(stdout) as Array<[string, string, string]>;
    for (const [path, code, details] of results.slice(0, 2)) {
      expect(code, path).toBe('INVALID_ARGUMENT');
      expect(details, path).toMatch(/is not a valid glomseg\.v1\.\w+Request message/);
      expect(details, path).not.toMatch(LIBRARY_WORDS);
    }
    // The same client's next call is served.
    expect(results[2][1]).toBe('OK');
  });
});

describe('a stream whose client never reads', () => {
  const STALL_MS = 1000;
  // ScoreSlide on the viewer's 256 px tiles, not the card's larger (and int8) scoring tiles: the whole slide is then
  // 35 tiles, seconds of work on a CPU, so the reset cuts the work short (a cancelled stream). On the larger tiles the
  // work could end before the stall limit and the stream count as complete (CI saw no cancel), as a 2048 px region
  // of 4 tiles did on an idle machine.
  const stalling = useGrpcApp({ limits: { maxWriteStallMs: STALL_MS }, scoreTileSize: 256 });

  const REGION = { x: 0, y: 0, width: 6400, height: 4800 };

  // Two tiles of StreamTiles may be done before the limit; then only the stream was held.
  it.each([
    ['ScoreSlide', (api: GlomsegApi) => api.scoreSlide({ slideId: SLIDE, region: REGION }), 1],
    [
      'StreamTiles',
      (api: GlomsegApi) =>
        api.streamTiles({
          slideId: SLIDE,
          tiles: [
            { col: 0, row: 0 },
            { col: 1, row: 0 },
          ],
        }),
      0,
    ],
  ])(
    '%s is reset with RESOURCE_EXHAUSTED, its work stops, and other clients are served meanwhile',
    async (_name, open, cancelled) => {
      const stats = () => stalling.app.service.stats();
      const cancelledBefore = stats().cancelledStreams;
      const streams = () =>
        stats().activeStreams + stats().completedStreams + stats().cancelledStreams + stats().failedStreams;
      const streamsBefore = streams();
      // The CLI's client (grpc-js) with an HTTP/2 receive window of 0: the server can send it no data at all.
      const nonReading = await connectGlomseg(stalling.app.grpcAddress, 10_000, undefined, {
        'grpc-node.flow_control_window': 0,
      });
      const reader = glomsegClient(stalling.app.grpcAddress);
      try {
        const stalled = open(nonReading.api)[Symbol.asyncIterator]().next();
        const outcome = stalled.then(
          () => 'a message arrived',
          (error: unknown) => ConnectError.from(error),
        );
        // The call reached the service (with cached tiles it may be done at once, its stream still held).
        await until(() => streams() > streamsBefore, 30_000);
        // Another client, on its own connection, is served while the stalled stream is held.
        const tiles = await collect(reader.streamTiles({ slideId: SLIDE, tiles: [{ col: 0, row: 0 }] }));
        expect(tiles).toHaveLength(1);
        const error = await outcome;
        expect(error).toBeInstanceOf(ConnectError);
        expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
        // The server ended the stream and freed what it held.
        await until(() => stats().activeStreams === 0, 30_000);
        expect(stats().cancelledStreams - cancelledBefore).toBeGreaterThanOrEqual(cancelled);
        const computed = stats().tilesComputed;
        await until(() => stats().scheduler.queued === 0 && stats().scheduler.running === 0, 30_000);
        expect(stats().tilesComputed - computed).toBeLessThanOrEqual(2);
        expect((await reader.getSlideInfo({ slideId: SLIDE })).width).toBeGreaterThan(0);
      } finally {
        nonReading.close();
        reader.close();
      }
    },
  );

  it('a raw HTTP/2 client sees the stream reset with ENHANCE_YOUR_CALM, the code gRPC clients read as RESOURCE_EXHAUSTED', async () => {
    const session = http2.connect(`http://${stalling.app.grpcAddress}`, { settings: { initialWindowSize: 0 } });
    try {
      const path = '/glomseg.v1.Glomseg/StreamTiles';
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      stream.end(frame(Uint8Array.from(VALID[path])));
      await new Promise((resolve) => stream.on('close', resolve));
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    } finally {
      session.destroy();
    }
  });
});
