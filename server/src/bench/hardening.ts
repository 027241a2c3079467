/**
 * `npm run bench:hardening`: the probe's heavy and hostile cases against a real `glomseg serve` process, with
 * health checks from this process running back to back throughout. Prints, per case, its status and time and
 * the health latency (p50 / p99 / max); the RSS cost of a 1 GB gzip bomb on each port; whether new clients
 * connect while many idle sockets are open; and, against a server with a token, the lockout cases: peers without
 * a token filling the gRPC port with refused and health calls, and silent sockets on the HTTP port (also reopened
 * as fast as they are dropped), with how many real clients got in and the health latency meanwhile.
 * `--quick`: only the baseline scoring case before the socket cases (no bombs, no heavy ground truths).
 * Figures, not assertions: the tests assert the behaviour.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { AnnotationFormat, Glomseg, type ScoreSlideRequestSchema } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { Health } from '@glomseg/api/gen/health/v1/health_pb.js';
import { connectGlomseg, type GlomsegApi } from '../client/grpc-client.js';
import { GrpcJsTransport } from '../client/grpc-js-transport.js';
import { EVAL_REGION, MODELS } from '../repo-paths.mjs';
import { DEFAULT_MAX_CONNECTIONS } from '../security/socket-gate.js';
import { ServerProcess } from './server-process.js';
import { readProcessMemory } from './rss-sampler.js';
import { compressedFrame, geoJsonOf, gzipBomb, manySquares, starRing } from './hostile-inputs.js';
import { flatImageCase } from './flat-image-starvation.js';
import { SocketAttack, type AttackSocketKind, type AttackSummary } from './socket-attack.js';

const SLIDE = 'kidney-region.tif';
const WIDTH = 6400;
const HEIGHT = 4800;
const IDLE_SOCKETS = Number(process.env.GLOMSEG_BENCH_IDLE_SOCKETS ?? 19_000);
const MB = 1024 * 1024;
const QUICK = process.argv.includes('--quick');
/** The lockout cases: the figures, past the default cap of 4,096. */
const LOCKOUT_CONNECTIONS = 4_300;
const HTTP_IDLE_SOCKETS = 5_000;
/** Attackers spread over this many loopback addresses, to get past the bound per peer address (256 by default). */
const ATTACK_ADDRESSES = Array.from({ length: 24 }, (_, i) => `127.0.0.${2 + i}`);
const BENCH_TOKEN = 'bench-hardening-token-0123456789';

type ScoreRequest = MessageInitShape<typeof ScoreSlideRequestSchema>;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN;
}

async function statusOfScoring(api: GlomsegApi, request: ScoreRequest): Promise<string> {
  try {
    for await (const _ of api.scoreSlide(request));
    return 'OK';
  } catch (error) {
    return describeCallError(error).slice(0, 140);
  }
}

async function healthWhile(
  health: ReturnType<typeof createClient<typeof Health>>,
  work: Promise<string>,
): Promise<{ status: string; seconds: number; probes: number; p50: number; p99: number; max: number; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  let done = false;
  const started = performance.now();
  const probing = (async () => {
    while (!done) {
      const t0 = performance.now();
      const ok = await health.check({ service: 'glomseg.v1.Glomseg' }, { timeoutMs: 10_000 }).then(
        () => true,
        () => false,
      );
      latencies.push(performance.now() - t0);
      if (!ok) failed++;
    }
  })();
  const status = await work;
  const seconds = (performance.now() - started) / 1000;
  done = true;
  await probing;
  latencies.sort((a, b) => a - b);
  return {
    status,
    seconds,
    probes: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    failed,
  };
}

function rawGrpcBomb(address: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', () => resolve('connection error'));
    const stream = session.request({
      ':method': 'POST',
      ':path': '/glomseg.v1.Glomseg/ScoreSlide',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
    });
    let status = '?';
    stream.on('trailers', (t) => (status = String(t['grpc-status'])));
    stream.on('response', (h) => (status = String(h['grpc-status'] ?? status)));
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      session.close();
      resolve(`grpc-status ${status}`);
    });
    stream.end(body);
  });
}

async function grpcWebBomb(httpUrl: string, body: Buffer): Promise<string> {
  const response = await fetch(`${httpUrl}/glomseg.v1.Glomseg/ScoreSlide`, {
    method: 'POST',
    headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'grpc-encoding': 'gzip' },
    body: new Uint8Array(body),
  });
  const text = Buffer.from(await response.arrayBuffer()).toString('latin1');
  return `grpc-status ${response.headers.get('grpc-status') ?? /grpc-status:\s*(\d+)/.exec(text)?.[1]}`;
}

async function main(): Promise<void> {
  const server = await ServerProcess.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    device: 'cpu',
    http: true,
  });
  const healthTransport = new GrpcJsTransport(server.address);
  const health = createClient(Health, healthTransport);
  const client = await connectGlomseg(server.address);
  try {
    console.log(`server pid ${server.pid}, gRPC ${server.address}, HTTP ${server.httpUrl}`);

    // The bomb first, while the process's peak (VmHWM) is still its start-up peak.
    const bomb = compressedFrame(gzipBomb(1 << 30));
    if (!QUICK)
      console.log(`\n## gzip bomb: ${(bomb.byteLength / 1024).toFixed(0)} KB on the wire, 1024 MB decompressed`);
    for (const [port, send] of QUICK
      ? []
      : ([
          ['gRPC', () => rawGrpcBomb(server.address, bomb)],
          ['gRPC-Web', () => grpcWebBomb(server.httpUrl!, bomb)],
        ] as const)) {
      const before = await readProcessMemory(server.pid);
      const status = await send();
      const after = await readProcessMemory(server.pid);
      console.log(
        `${port}: ${status}; RSS ${(before.rssBytes / MB).toFixed(0)} -> ${(after.rssBytes / MB).toFixed(0)} MB, peak ${(before.hwmBytes / MB).toFixed(0)} -> ${(after.hwmBytes / MB).toFixed(0)} MB (+${((after.hwmBytes - before.hwmBytes) / MB).toFixed(0)} MB)`,
      );
    }

    // Cache the model tiles so that the scoring cases measure scoring.
    await statusOfScoring(client.api, { slideId: SLIDE });
    const annotations = (content: string, format = AnnotationFormat.GEOJSON) => ({ content, format });
    const cases: Array<[string, () => ScoreRequest]> = [
      ['baseline: ScoreSlide, cached tiles, no truth', () => ({ slideId: SLIDE })],
      [
        '10,000-vertex star over the slide (Dice)',
        () => ({
          slideId: SLIDE,
          annotations: annotations(geoJsonOf([starRing(9_999, WIDTH / 2, HEIGHT / 2, 500, 2300)])),
        }),
      ],
      [
        'full-mask RLE of the slide (30.7 Mpx)',
        () => ({
          slideId: SLIDE,
          annotations: annotations(`id,encoding\nkidney-region,1 ${WIDTH * HEIGHT}\n`, AnnotationFormat.RLE_CSV),
        }),
      ],
      [
        '80,000-vertex circle',
        () => ({ slideId: SLIDE, annotations: annotations(geoJsonOf([starRing(80_000, 3200, 2400, 2000, 2000)])) }),
      ],
      [
        '80,000-vertex star',
        () => ({ slideId: SLIDE, annotations: annotations(geoJsonOf([starRing(80_000, 3200, 2400, 500, 2300)])) }),
      ],
      ['285,000 small polygons', () => ({ slideId: SLIDE, annotations: annotations(geoJsonOf(manySquares(285_000))) })],
      [
        'one polygon of 2.5 M vertices',
        () => ({
          slideId: SLIDE,
          annotations: annotations(geoJsonOf([starRing(2_500_000, 3200, 2400, 1000, 2000, true)])),
        }),
      ],
      [
        '1 x 1 Dice grid',
        () => ({
          slideId: SLIDE,
          annotations: annotations(geoJsonOf([starRing(100, 3200, 2400, 500, 900)])),
          diceTileWidth: 1,
          diceTileHeight: 1,
        }),
      ],
      ['mpp_override = 100 (1.17 M tiles)', () => ({ slideId: SLIDE, mppOverride: 100 })],
    ];
    console.log('\n## health (grpc.health.v1 Check, back to back from another process) while each case runs');
    console.log('| case | status | case s | probes | health p50 ms | p99 ms | max ms | failed |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, request] of QUICK ? cases.slice(0, 1) : cases) {
      const body = request();
      const r = await healthWhile(health, statusOfScoring(client.api, body));
      console.log(
        `| ${name} | ${r.status} | ${r.seconds.toFixed(1)} | ${r.probes} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.failed} |`,
      );
    }

    await idleSocketsCase(server);
  } finally {
    client.close();
    healthTransport.close();
    await server.close();
  }
  await lockoutCases();
}

/** The gRPC port under many idle sockets: a new client is still answered, and the gate evicts the silent ones. */
async function idleSocketsCase(server: ServerProcess): Promise<void> {
  console.log(`\n## ${IDLE_SOCKETS} idle sockets (half silent, half HTTP/2 preface only) on the gRPC port`);
  const sockets: net.Socket[] = [];
  const [host, portText] = [
    server.address.slice(0, server.address.lastIndexOf(':')),
    server.address.slice(server.address.lastIndexOf(':') + 1),
  ];
  const preface = Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
  ]);
  let connected = 0;
  for (let i = 0; i < IDLE_SOCKETS; i += 500) {
    await Promise.all(
      Array.from(
        { length: Math.min(500, IDLE_SOCKETS - i) },
        (_, k) =>
          new Promise<void>((resolve) => {
            const socket = net.connect(Number(portText), host, () => {
              connected++;
              if ((i + k) % 2) socket.write(preface);
              resolve();
            });
            // Evicted sockets are reset by the server: an error here, after the connect above.
            socket.on('error', () => resolve());
            sockets.push(socket);
          }),
      ),
    );
  }
  const t0 = performance.now();
  const fresh = new GrpcJsTransport(server.address);
  const answered = await createClient(Glomseg, fresh)
    .listSlides({}, { timeoutMs: 30_000 })
    .then(() => 'OK', describeCallError);
  const ms = performance.now() - t0;
  fresh.close();
  const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const open = /^glomseg_grpc_connections_open (\d+)/m.exec(metrics)?.[1];
  const evicted = /^glomseg_grpc_connections_closed_total\{reason="evicted"\} (\d+)/m.exec(metrics)?.[1];
  console.log(
    `sockets connected ${connected}/${IDLE_SOCKETS}; then a new client's ListSlides: ${answered} in ${ms.toFixed(0)} ms; the server holds ${open} sockets (cap ${DEFAULT_MAX_CONNECTIONS}), evicted ${evicted}`,
  );
  for (const socket of sockets) socket.destroy();
}

const split = (address: string) => ({
  host: address.slice(0, address.lastIndexOf(':')),
  port: Number(address.slice(address.lastIndexOf(':') + 1)),
});
const tally = (summary: AttackSummary) =>
  Object.entries(summary.answers)
    .map(([answer, n]) => `${answer} x${n}`)
    .join(', ');

/** `count` clients with the token, one after another, each on a connection of its own: how many were answered. */
async function clientsWithToken(address: string, metadata: grpc.Metadata, count: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const transport = new GrpcJsTransport(address, {
      metadata,
      channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
    });
    ok += await createClient(Glomseg, transport)
      .listSlides({}, { timeoutMs: 30_000 })
      .then(
        () => 1,
        () => 0,
      );
    transport.close();
  }
  return ok;
}

/** `count` browsers, 5 at a time, each request on a socket of its own: the viewer page, and /metrics with the token. */
async function browsers(httpUrl: string, count: number): Promise<number> {
  const get = (pathname: string, headers: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const request = http.get(`${httpUrl}${pathname}`, { agent: false, headers }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200 ? 1 : 0));
        response.on('error', () => resolve(0));
      });
      request.on('error', () => resolve(0));
      request.setTimeout(30_000, () => request.destroy());
    });
  let ok = 0;
  for (let i = 0; i < count; i += 5) {
    const wave = Array.from({ length: Math.min(5, count - i) }, (_, k) =>
      (i + k) % 2 ? get('/metrics', { authorization: `Bearer ${BENCH_TOKEN}` }) : get('/', {}),
    );
    ok += (await Promise.all(wave)).reduce((a, b) => a + b, 0);
  }
  return ok;
}

/**
 * The lockout cases of issue 26 against a server with a token, default caps. The attackers run in a process of
 * their own; the health probes carry the token (an operator's probe, on one connection).
 */
async function lockoutCases(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-bench-'));
  const tokenFile = path.join(dir, 'tokens.txt');
  await writeFile(tokenFile, `${BENCH_TOKEN}\n`);
  const server = await ServerProcess.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    device: 'cpu',
    http: true,
    args: ['--auth-token-file', tokenFile],
  });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${BENCH_TOKEN}`);
  const healthTransport = new GrpcJsTransport(server.address, {
    metadata,
    channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
  });
  const health = createClient(Health, healthTransport);
  try {
    await health.check({ service: 'glomseg.v1.Glomseg' }, { timeoutMs: 10_000 });
    console.log(
      `\n## lockout (a server with --auth-token-file, default caps; attackers from ${ATTACK_ADDRESSES.length} loopback addresses, in a process of their own)`,
    );
    console.log(
      "| case | real clients answered | attackers' answers | case s | probes | health p50 ms | p99 ms | max ms | failed |",
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const grpcPort = split(server.address);
    const httpPort = split(new URL(server.httpUrl!).host);
    const cases: Array<
      [string, { host: string; port: number }, AttackSocketKind[], number, boolean, () => Promise<string>]
    > = [
      [
        `gRPC: ${LOCKOUT_CONNECTIONS} connections each making a call without a token (refused or health), then held`,
        grpcPort,
        ['grpc-without-token', 'grpc-health'],
        LOCKOUT_CONNECTIONS,
        false,
        async () => `${await clientsWithToken(server.address, metadata, 30)}/30 gRPC clients with the token`,
      ],
      [
        `the same, each connection reopened when dropped`,
        grpcPort,
        ['grpc-without-token', 'grpc-health'],
        LOCKOUT_CONNECTIONS,
        true,
        async () => `${await clientsWithToken(server.address, metadata, 30)}/30 gRPC clients with the token`,
      ],
      [
        `HTTP: ${HTTP_IDLE_SOCKETS} silent sockets`,
        httpPort,
        ['silent'],
        HTTP_IDLE_SOCKETS,
        false,
        async () => `${await browsers(server.httpUrl!, 25)}/25 browser requests`,
      ],
      [
        `HTTP: ${HTTP_IDLE_SOCKETS} silent sockets, each reopened when dropped`,
        httpPort,
        ['silent'],
        HTTP_IDLE_SOCKETS,
        true,
        async () => `${await browsers(server.httpUrl!, 40)}/40 browser requests`,
      ],
    ];
    for (const [name, target, kinds, count, reopen, clients] of cases) {
      let attackers = '';
      const r = await healthWhile(
        health,
        (async () => {
          const attack = await SocketAttack.inChild({ ...target, addresses: ATTACK_ADDRESSES, count, kinds, reopen });
          const answered = await clients();
          const summary = await attack.stop();
          attackers = [tally(summary) || 'no calls', reopen ? `reopened ${summary.reopened}` : '']
            .filter(Boolean)
            .join('; ');
          return answered;
        })(),
      );
      console.log(
        `| ${name} | ${r.status} | ${attackers} | ${r.seconds.toFixed(1)} | ${r.probes} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.failed} |`,
      );
    }
    const metrics = await (
      await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } })
    ).text();
    const evicted = /^glomseg_grpc_connections_closed_total\{reason="evicted"\} (\d+)/m.exec(metrics)?.[1];
    const refused = /^glomseg_grpc_connections_closed_total\{reason="refused"\} (\d+)/m.exec(metrics)?.[1];
    console.log(`gRPC port afterwards: evicted ${evicted}, refused ${refused}`);
  } finally {
    healthTransport.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
// Large PNG slides decoded while other slides' files are read (flat-image-starvation.ts); GLOMSEG_BENCH_FLAT_COUNT
// and GLOMSEG_BENCH_FLAT_EDGE shrink it (default 6 of 14,000 px, as in issue 26).
if (!process.argv.includes('--quick')) {
  await flatImageCase({
    tiffFolder: EVAL_REGION,
    tiffName: SLIDE,
    modelFolder: MODELS,
    count: Number(process.env.GLOMSEG_BENCH_FLAT_COUNT ?? 6),
    edge: Number(process.env.GLOMSEG_BENCH_FLAT_EDGE ?? 14_000),
  });
}
