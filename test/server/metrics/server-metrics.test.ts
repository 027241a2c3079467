/**
 * /metrics on the real app after real traffic: stream outcomes, tiles, stage latencies, status codes by method,
 * sockets, and the process and Node figures under the names dashboards expect; the whole page passes promtool's lint.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { collect, statusOf } from '../../helpers/grpc.js';
import { callGrpcWeb } from '../web/grpc-web-client.js';
import { until } from '../../helpers/until.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const served = useGrpcApp({ httpPort: 0 });

/** The value of the sample of `name` with exactly these labels (in any order), e.g. glomseg_tiles_total {source: 'computed'}. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have =
      (match[2] ?? '')
        .match(/[a-zA-Z_]\w*="(?:[^"\\]|\\.)*"/g)
        ?.sort()
        .join(',') ?? '';
    if (have === wanted) return Number(match[3]);
  }
  throw new Error(
    `no sample ${name}{${wanted}} in:\n${text
      .split('\n')
      .filter((l) => l.startsWith(`${name}`))
      .slice(0, 60)
      .join('\n')}`,
  );
}

/** `promtool check metrics` (Debian's prometheus package) on a scraped page: its exit code and what it said. */
function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

describe('/metrics', () => {
  it('counts streams, tiles, stage latencies, call codes by method and sockets, and reports the process and Node figures', async () => {
    await collect(
      served.client.streamTiles({
        slideId: 'kidney-region.tif',
        tiles: [
          { col: 0, row: 0 },
          { col: 1, row: 0 },
        ],
      }),
    );
    await collect(served.client.streamTiles({ slideId: 'kidney-region.tif', tiles: [{ col: 0, row: 0 }] }));
    expect((await statusOf(served.client.getSlideInfo({ slideId: 'no-such.tif' }))).code).toBe(5);
    const web = await callGrpcWeb(served.app.httpUrl!, 'ListSlides', 'ListSlidesRequest', 'ListSlidesResponse', {});
    expect(web.status).toBe(0);

    const response = await fetch(`${served.app.httpUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(sample(text, 'glomseg_streams_total', { outcome: 'completed' })).toBe(2);
    expect(sample(text, 'glomseg_streams_active')).toBe(0);
    expect(sample(text, 'glomseg_tiles_total', { source: 'computed' })).toBe(2);
    expect(sample(text, 'glomseg_tiles_total', { source: 'cache' })).toBe(1);
    expect(sample(text, 'glomseg_tile_stage_seconds_count', { stage: 'inference' })).toBe(2);
    expect(sample(text, 'glomseg_tile_queue_depth')).toBe(0);
    expect(
      sample(text, 'glomseg_calls_total', {
        transport: 'grpc',
        method: 'glomseg.v1.Glomseg/GetSlideInfo',
        code: 'NOT_FOUND',
      }),
    ).toBe(1);
    expect(
      sample(text, 'glomseg_calls_total', { transport: 'grpc', method: 'glomseg.v1.Glomseg/StreamTiles', code: 'OK' }),
    ).toBe(2);
    expect(
      sample(text, 'glomseg_calls_total', {
        transport: 'grpc-web',
        method: 'glomseg.v1.Glomseg/ListSlides',
        code: 'OK',
      }),
    ).toBe(1);
    expect(sample(text, 'glomseg_grpc_connections_open')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'glomseg_result_cache_entries')).toBe(2);

    // The process and Node figures under prom-client's standard names, which dashboards for Node services query.
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^nodejs_active_handles\{type="[A-Za-z]+"\} \d+$/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
    expect(text).not.toMatch(/^glomseg_(process|nodejs)_/m);
  });

  it('passes promtool check metrics after that traffic (exit 0, nothing to say)', async () => {
    const text = await (await fetch(`${served.app.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^glomseg_calls_total\{/m);
    expect(await promtool(text)).toEqual({ code: 0, output: '' });
  });
});

describe("/metrics on the HTTP port's sockets and the request byte budget", () => {
  // Small bounds, so that a few sockets move the counters: 2 sockets per peer, 2 s to the first request.
  const small = useGrpcApp({
    httpPort: 0,
    connections: { maxConnectionsPerPeer: 2, handshakeTimeoutMs: 2000 },
    limits: { maxInFlightRequestBytes: 4 * 1024 * 1024 },
  });

  const scrape = async () => {
    const text = await small.app.metricsText();
    expect(await promtool(text)).toEqual({ code: 0, output: '' });
    return text;
  };

  it("counts the HTTP port's sockets: open, and closed by the gate by reason", async () => {
    const { hostname, port } = new URL(small.app.httpUrl!);
    const before = await scrape();
    for (const reason of ['handshake_timeout', 'evicted', 'refused', 'write_stall']) {
      expect(sample(before, 'glomseg_http_connections_closed_total', { reason })).toBe(0);
    }
    expect(sample(before, 'glomseg_http_connections_open')).toBe(0);
    // Three silent sockets from one peer: the third pushes out the first (2 per peer), the others time out.
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = net.connect({ host: hostname, port: Number(port), localAddress: '127.0.0.2' });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      await until(() => small.app.httpConnections()!.open + small.app.httpConnections()!.evicted >= i + 1);
      sockets.push(socket);
    }
    expect(sample(await scrape(), 'glomseg_http_connections_open')).toBe(2);
    await until(() => small.app.httpConnections()!.open === 0);
    const after = await scrape();
    expect(sample(after, 'glomseg_http_connections_closed_total', { reason: 'evicted' })).toBe(1);
    expect(sample(after, 'glomseg_http_connections_closed_total', { reason: 'handshake_timeout' })).toBe(2);
    expect(sample(after, 'glomseg_http_connections_open')).toBe(0);
    // The gRPC port's own counters are apart.
    expect(sample(after, 'glomseg_grpc_connections_closed_total', { reason: 'evicted' })).toBe(0);
    for (const socket of sockets) socket.destroy();
  });

  it('reports the request bytes in flight against the budget, and the requests refused past it', async () => {
    const before = await scrape();
    expect(sample(before, 'glomseg_request_bytes_budget')).toBe(4 * 1024 * 1024);
    expect(sample(before, 'glomseg_request_bytes_in_flight')).toBe(0);
    expect(sample(before, 'glomseg_requests_in_flight')).toBe(0);
    expect(sample(before, 'glomseg_request_budget_refusals_total')).toBe(0);
    // A gRPC-Web request announcing 3 MiB whose body stops after 1 KiB: it holds its bytes from its length prefix.
    const announced = 3 * 1024 * 1024;
    const held = http.request(`${small.app.httpUrl}/glomseg.v1.Glomseg/GetSlideInfo`, {
      method: 'POST',
      headers: {
        'content-type': 'application/grpc-web+proto',
        'x-grpc-web': '1',
        'content-length': String(5 + announced),
      },
    });
    held.on('error', () => undefined);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(announced, 1);
    held.write(Buffer.concat([prefix, Buffer.alloc(1024)]));
    await until(() => small.app.requestByteStats().inFlightBytes > 0);
    const holding = await scrape();
    expect(sample(holding, 'glomseg_request_bytes_in_flight')).toBe(announced);
    expect(sample(holding, 'glomseg_requests_in_flight')).toBe(1);
    // Another such request does not fit: refused, and counted.
    const refused = await callGrpcWeb(small.app.httpUrl!, 'GetSlideInfo', 'GetSlideInfoRequest', 'SlideInfo', {
      slideId: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(refused.status).toBe(8);
    expect(sample(await scrape(), 'glomseg_request_budget_refusals_total')).toBe(1);
    held.destroy();
    await until(() => small.app.requestByteStats().inFlightBytes === 0);
    const after = await scrape();
    expect(sample(after, 'glomseg_request_bytes_in_flight')).toBe(0);
    expect(sample(after, 'glomseg_requests_in_flight')).toBe(0);
  });
});
