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
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { AnnotationFormat, type ScoreSlideRequestSchema } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { Health } from '@glomseg/api/gen/health/v1/health_pb.js';
import { connectGlomseg, type GlomsegApi } from '../client/grpc-client.js';
import { GrpcJsTransport } from '../client/grpc-js-transport.js';
import { EVAL_REGION, MODELS } from '../repo-paths.mjs';
import { ServerProcess } from './server-process.js';
import { readProcessMemory } from './rss-sampler.js';
import { compressedFrame, geoJsonOf, gzipBomb, manySquares, starRing } from './hostile-inputs.js';
import { flatImageCase } from './flat-image-starvation.js';
import { grpcWebBomb, rawGrpcBomb } from './bomb-senders.js';
import { healthColumns, healthWhile } from './health-while.js';
import { idleSocketsCase } from './idle-sockets-case.js';
import { lockoutCases } from './lockout-cases.js';

const SLIDE = 'kidney-region.tif';
const WIDTH = 6400;
const HEIGHT = 4800;
const MB = 1024 * 1024;
const QUICK = process.argv.includes('--quick');

type ScoreRequest = MessageInitShape<typeof ScoreSlideRequestSchema>;

async function statusOfScoring(api: GlomsegApi, request: ScoreRequest): Promise<string> {
  try {
    for await (const _ of api.scoreSlide(request));
    return 'OK';
  } catch (error) {
    return describeCallError(error).slice(0, 140);
  }
}

/** The RSS cost of one 1 GB gzip bomb on each port; first, while the process's peak (VmHWM) is its start-up peak. */
async function gzipBombCases(server: ServerProcess): Promise<void> {
  const bomb = compressedFrame(gzipBomb(1 << 30));
  console.log(`\n## gzip bomb: ${(bomb.byteLength / 1024).toFixed(0)} KB on the wire, 1024 MB decompressed`);
  const senders = [
    ['gRPC', () => rawGrpcBomb(server.address, bomb)],
    ['gRPC-Web', () => grpcWebBomb(server.httpUrl!, bomb)],
  ] as const;
  for (const [port, send] of senders) {
    const before = await readProcessMemory(server.pid);
    const status = await send();
    const after = await readProcessMemory(server.pid);
    console.log(
      `${port}: ${status}; RSS ${(before.rssBytes / MB).toFixed(0)} -> ${(after.rssBytes / MB).toFixed(0)} MB, peak ${(before.hwmBytes / MB).toFixed(0)} -> ${(after.hwmBytes / MB).toFixed(0)} MB (+${((after.hwmBytes - before.hwmBytes) / MB).toFixed(0)} MB)`,
    );
  }
}

/** The scoring cases: a baseline on cached tiles, then heavy and hostile ground truths and grids. */
function scoringCases(): Array<[string, () => ScoreRequest]> {
  const annotations = (content: string, format = AnnotationFormat.GEOJSON) => ({ content, format });
  return [
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
    if (!QUICK) await gzipBombCases(server);
    // Cache the model tiles so that the scoring cases measure scoring.
    await statusOfScoring(client.api, { slideId: SLIDE });
    const cases = scoringCases();
    console.log('\n## health (grpc.health.v1 Check, back to back from another process) while each case runs');
    console.log('| case | status | case s | probes | health p50 ms | p99 ms | max ms | failed |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, request] of QUICK ? cases.slice(0, 1) : cases) {
      const body = request();
      const r = await healthWhile(health, statusOfScoring(client.api, body));
      console.log(`| ${name} | ${r.status} | ${healthColumns(r)} |`);
    }

    await idleSocketsCase(server);
  } finally {
    client.close();
    healthTransport.close();
    await server.close();
  }
  await lockoutCases();
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
