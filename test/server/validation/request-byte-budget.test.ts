/**
 * The budget of request bytes in flight, over real sockets on both ports of one server with a 4 MiB budget: a
 * 3 MiB request whose body is still arriving holds its bytes from its length prefix on, so a second one on either
 * port is refused with RESOURCE_EXHAUSTED before its body is read, while small calls go on; once the first ends
 * (finished, or cancelled) the budget is free again and the same request succeeds.
 */
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestByteBudget } from '../../../server/src/validation/request-byte-budget.js';
import { glomsegClient } from '../../helpers/grpc.js';
import { frame, rawGrpcCall } from '../grpc/raw-grpc.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const MiB = 1024 * 1024;
const SLIDE = 'kidney-region-quarter.tif';
const PATH = '/glomseg.v1.Glomseg/GetSlideInfo';
const served = useGrpcApp({ httpPort: 0, limits: { maxInFlightRequestBytes: 4 * MiB } });

/** A GetSlideInfoRequest for SLIDE made `size` bytes long by an unknown field (field 15, bytes), which parsers skip. */
function bigRequest(size: number): Uint8Array {
  const id = Buffer.from(SLIDE);
  const head = Buffer.from([0x0a, id.length, ...id, 0x7a]);
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 0x7f; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
    out.push(n);
    return Buffer.from(out);
  };
  let padding = size - head.length;
  padding -= varint(padding).length;
  return Buffer.concat([head, varint(padding), Buffer.alloc(padding, 0x61)]);
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 30_000) throw new Error(`never: ${what} (${JSON.stringify(served.app.requestByteStats())})`);
    await sleep(10);
  }
}

/** A native gRPC call whose body stops after its length prefix and 1 KiB; finish() sends the rest, cancel() resets it. */
function heldGrpcCall(body: Uint8Array) {
  const session = http2.connect(`http://${served.app.grpcAddress}`);
  session.on('error', () => undefined);
  const stream = session.request({
    ':method': 'POST',
    ':path': PATH,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  let headers: http2.IncomingHttpHeaders = {};
  stream.on('response', (h) => (headers = h));
  stream.on('trailers', (t) => (headers = { ...headers, ...t }));
  stream.on('data', () => undefined);
  stream.on('error', () => undefined);
  const closed = new Promise<string>((resolve) =>
    stream.on('close', () => {
      session.close();
      resolve(String(headers['grpc-status']));
    }),
  );
  const framed = frame(body);
  stream.write(framed.subarray(0, 5 + 1024));
  return {
    finish: () => {
      stream.end(framed.subarray(5 + 1024));
      return closed;
    },
    cancel: () => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return closed;
    },
  };
}

/** gRPC-Web over HTTP/1.1: the status from the headers (trailers-only) or the trailer frame at the body's end. */
function grpcWebCall(body: Uint8Array, hold = false) {
  const url = new URL(`${served.app.httpUrl}${PATH}`);
  const request = http.request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' },
  });
  const done = new Promise<{ status: string; message: string }>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        const status = String(response.headers['grpc-status'] ?? /grpc-status:\s*(\d+)/.exec(text)?.[1]);
        const message = decodeURIComponent(
          String(response.headers['grpc-message'] ?? /grpc-message:\s*([^\r\n]*)/.exec(text)?.[1] ?? ''),
        );
        resolve({ status, message });
      });
    });
  });
  const framed = frame(body);
  if (!hold) {
    request.end(framed);
    return { done, finish: () => done };
  }
  request.write(framed.subarray(0, 5 + 1024));
  return {
    done,
    finish: () => {
      request.end(framed.subarray(5 + 1024));
      return done;
    },
  };
}

describe('request bytes in flight', () => {
  const three = bigRequest(3 * MiB);

  it('refuses a request on either port while another holds the budget, and takes it once that one has ended', async () => {
    const held = heldGrpcCall(three);
    await until(() => served.app.requestByteStats().inFlightBytes === three.length, 'the held call charged');

    const refused = await rawGrpcCall(served.app.grpcAddress, { path: PATH, body: frame(three) });
    expect(refused.status).toBe('8');
    expect(refused.message).toMatch(
      /GetSlideInfo: the server is busy: requests in flight hold 3\.0 MB of its 4\.0 MB budget for request bytes and this one brings 3\.0 MB/,
    );
    const refusedWeb = await grpcWebCall(three).done;
    expect(refusedWeb.status).toBe('8');
    expect(refusedWeb.message).toMatch(/budget for request bytes/);
    // Small calls still fit.
    const client = glomsegClient(served.app.grpcAddress);
    try {
      expect((await client.getSlideInfo({ slideId: SLIDE })).width).toBeGreaterThan(0);
    } finally {
      client.close();
    }

    expect(await held.finish()).toBe('0');
    await until(() => served.app.requestByteStats().inFlightBytes === 0, 'the finished call released');
    expect((await rawGrpcCall(served.app.grpcAddress, { path: PATH, body: frame(three) })).status).toBe('0');
    expect((await grpcWebCall(three).done).status).toBe('0');
    expect(served.app.requestByteStats()).toMatchObject({ inFlightBytes: 0, inFlight: 0, refused: 2 });
  });

  it('gives a cancelled request its bytes back, and the gRPC-Web port holds them the same way', async () => {
    const cancelled = heldGrpcCall(three);
    await until(() => served.app.requestByteStats().inFlightBytes === three.length, 'the held call charged');
    await cancelled.cancel();
    await until(() => served.app.requestByteStats().inFlightBytes === 0, 'the cancelled call released');

    const web = grpcWebCall(three, true);
    await until(() => served.app.requestByteStats().inFlightBytes === three.length, 'the held gRPC-Web call charged');
    expect((await rawGrpcCall(served.app.grpcAddress, { path: PATH, body: frame(three) })).status).toBe('8');
    expect((await web.finish()).status).toBe('0');
    await until(() => served.app.requestByteStats().inFlightBytes === 0, 'the gRPC-Web call released');
    expect((await rawGrpcCall(served.app.grpcAddress, { path: PATH, body: frame(three) })).status).toBe('0');
  });

  it('refuses a request larger than the whole budget, saying so', async () => {
    const five = await rawGrpcCall(served.app.grpcAddress, { path: PATH, body: frame(bigRequest(5 * MiB)) });
    expect(five.status).toBe('8');
    expect(five.message).toMatch(
      /a request of 5\.0 MB is larger than this server's budget for request bytes in flight \(4\.0 MB, maxInFlightRequestBytes\)/,
    );
    await until(() => served.app.requestByteStats().inFlightBytes === 0, 'nothing held');
  });
});

describe('RequestByteBudget', () => {
  it('holds and gives back bytes, once per lease', () => {
    const budget = new RequestByteBudget(100);
    const a = budget.take(60, 'A');
    expect(() => budget.take(41, 'B')).toThrow(expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }));
    const b = budget.take(40, 'B');
    a.release();
    a.release();
    expect(budget.stats()).toEqual({ budgetBytes: 100, inFlightBytes: 40, inFlight: 1, admitted: 2, refused: 1 });
    b.release();
    expect(budget.stats().inFlightBytes).toBe(0);
  });
});
