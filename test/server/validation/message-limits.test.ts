/**
 * Message limits on both ports, after decompression: a 1 MB gzip body that expands to 1 GB is refused with
 * RESOURCE_EXHAUSTED by gRPC (raw HTTP/2 client) and gRPC-Web (fetch), without the server holding the gigabyte,
 * and the server keeps serving.
 */
import { describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_LIMITS } from '../../../server/src/validation/limits.js';
import { glomsegClient } from '../../helpers/grpc.js';
import { compressedFrame, gzipBomb } from '../../../server/src/bench/hostile-inputs.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const bomb = compressedFrame(gzipBomb(1 << 30));

const served = useGrpcApp({ httpPort: 0 });

async function stillServing(): Promise<void> {
  const client = glomsegClient(served.app.grpcAddress);
  try {
    expect((await client.listSlides({})).slides.length).toBeGreaterThan(0);
  } finally {
    client.close();
  }
}

/** grpc-status of one raw HTTP/2 gRPC call carrying `body`. */
function rawGrpcStatus(body: Buffer): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${served.app.grpcAddress}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/glomseg.v1.Glomseg/ScoreSlide',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
    });
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (trailers) => (headers = { ...headers, ...trailers }));
    stream.on('data', () => undefined);
    stream.on('close', () => {
      session.close();
      resolve({
        status: String(headers['grpc-status']),
        message: decodeURIComponent(String(headers['grpc-message'] ?? '')),
      });
    });
    stream.on('error', () => undefined);
    stream.end(body);
  });
}

describe('message limits after decompression', () => {
  it('the bomb is what it claims: ~1 MB on the wire for a 1 GiB message', () => {
    expect(bomb.byteLength).toBeLessThan(2 * 1024 * 1024);
    expect(1 << 30).toBeGreaterThan(DEFAULT_LIMITS.maxMessageBytes * 10);
  });

  it('gRPC refuses the gzip bomb with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const { status, message } = await rawGrpcStatus(bomb);
    expect(status).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
    expect(message).toMatch(/larger than|max/i);
    await stillServing();
  });

  it('gRPC-Web refuses the gzip bomb with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const response = await fetch(`${served.app.httpUrl}/glomseg.v1.Glomseg/ScoreSlide`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'grpc-encoding': 'gzip' },
      body: new Uint8Array(bomb),
    });
    const body = Buffer.from(await response.arrayBuffer());
    const status = response.headers.get('grpc-status') ?? /grpc-status:\s*(\d+)/.exec(body.toString('latin1'))?.[1];
    expect(status).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
    await stillServing();
  });

  it('gRPC-Web refuses an uncompressed message over the limit from its length prefix, before reading it', async () => {
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(DEFAULT_LIMITS.maxMessageBytes + 1, 1);
    const response = await fetch(`${served.app.httpUrl}/glomseg.v1.Glomseg/ScoreSlide`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' },
      body: new Uint8Array(Buffer.concat([prefix, Buffer.alloc(1024)])),
    });
    const body = Buffer.from(await response.arrayBuffer());
    const status = response.headers.get('grpc-status') ?? /grpc-status:\s*(\d+)/.exec(body.toString('latin1'))?.[1];
    expect(status).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
  });
});
