/**
 * `npm run bench`: one run measures, side by side on the same machine,
 * - raw model throughput: session.run in a loop on the served input size, and the server's segmenter pool;
 * - end-to-end throughput: ScoreSlide on a large pyramidal BigTIFF, through gRPC, against a server in its own
 *   process; and the ratio of the two (both in kept model pixels per second);
 * - viewport latency: StreamTiles for the model tiles under a 1920 x 1080 level-0 viewport, first and last tile;
 * - the server's memory: RSS sampled every 200 ms and the kernel's peak (VmHWM).
 * Prints one JSON document (stdout and --json-out); progress goes to stderr.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, Option } from 'commander';
import { planTileGrid, tileReadWindow, tilesInRect, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { GeoTiffSlideSource } from '../slides/geotiff-slide-source.js';
import { ModelRegistry } from '../inference/model-registry.js';
import { OnnxSegmenter } from '../inference/onnx-segmenter.js';
import { deviceChoices, deviceHelp, type DeviceChoice } from '../inference/execution-providers.js';
import { resizeRgb } from '../service/resample.js';
import { modelFromProto, scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import { listModelsRequestToProto, scoreSlideRequestToProto, streamTilesRequestToProto } from '@glomseg/api/client/to-proto.js';
import type { ScoreResult } from '@glomseg/shared/glomseg-service.js';
import { connectGlomseg, type GlomsegConnection } from '../client/grpc-client.js';
import { toBinary } from '@bufbuild/protobuf';
import { ScoreSlideEventSchema } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';

import { machineInfo } from './machine-info.js';
import { measureSegmenterPool, measureSessionRun, servedInputSize } from './raw-throughput.js';
import { RssSampler, type RssSummary } from './rss-sampler.js';
import { readProcessCpuSeconds } from './process-cpu.js';
import { ServerProcess } from './server-process.js';
import { DEFAULT_BENCH_FOLDER } from './bench-paths.js';
import { positiveInteger, positiveNumber } from '../cli/option-parsers.js';

/** gRPC's usual client receive limit (Python, Go, Java defaults): the whole-slide result must arrive under it. */
const CLIENT_RECEIVE_LIMIT = 4 * 1024 * 1024;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAKE_LARGE_SLIDE = path.join(REPO_ROOT, 'server/src/bench/make-large-slide.ts');
const VIEWPORT = { width: 1920, height: 1080 };
const TARGETS = { endToEndOverRaw: 0.8, peakRssBytes: 1.5 * 1024 ** 3 };

const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

interface BenchOptions {
  device: DeviceChoice;
  slide?: string;
  size?: number;
  quick: boolean;
  jsonOut: string;
  rawIterations?: number;
  models: string;
  model?: string;
  workers?: number;
  viewports: number;
  mpp?: number;
  score: boolean;
}

/** The generated slide to use when none is given: made (in a child process, to measure it alone) when missing. */
async function ensureSlide(options: BenchOptions): Promise<{ path: string; generated?: object }> {
  if (options.slide) {
    if (!existsSync(options.slide)) throw new Error(`no such slide file: ${options.slide}`);
    return { path: path.resolve(options.slide) };
  }
  const size = options.size ?? (options.quick ? 16_384 : 61_440);
  const file = path.join(DEFAULT_BENCH_FOLDER, `large-${size}.tif`);
  if (existsSync(file)) return { path: file };
  log(`generating ${size} x ${size} BigTIFF at ${file} (mirror-tiled eval region; a minute or more per 60k)`);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAKE_LARGE_SLIDE, '--size', String(size), '--out', file], {
    cwd: REPO_ROOT,
    maxBuffer: 1 << 20,
  });
  return { path: file, generated: JSON.parse(stdout.trim().split('\n').pop()!) };
}

async function run(options: BenchOptions): Promise<object> {
  const machine = await machineInfo();
  log(`${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}`);
  const slide = await ensureSlide(options);
  const registry = await ModelRegistry.load({ folder: options.models, logger: log });
  const model = options.model ? registry.get(options.model) : registry.defaultModel();
  const { card } = model;

  // One real tile at the served input size, read and resized exactly as the service does.
  const source = await GeoTiffSlideSource.open(slide.path, path.basename(slide.path));
  const localGrid = planTileGrid(source.metadata, card, { mppOverride: options.mpp });
  const centre = { col: Math.floor(localGrid.cols / 2), row: Math.floor(localGrid.rows / 2) };
  const window = tileReadWindow(localGrid, centre);
  const tileImage = await resizeRgb(await source.readRegion(window), window.modelWidth, window.modelHeight);
  const slideInfo = {
    path: slide.path,
    width: source.metadata.width,
    height: source.metadata.height,
    format: source.metadata.format,
    compression: source.metadata.compression,
    tileSize: source.metadata.tileWidth,
    levels: source.metadata.levels.length,
    mpp: source.metadata.mppX,
    mppSource: source.metadata.mppSource,
    fileBytes: source.metadata.fileSize,
    generated: slide.generated,
  };
  await source.close();

  // Raw throughput first, before the server exists, so nothing competes with it.
  const cores = os.availableParallelism();
  const iterations = options.rawIterations ?? (options.quick ? 10 : 40);
  const minSeconds = options.rawIterations ? 0 : options.quick ? 3 : 10; // small models: enough runs to time
  // The server's own defaults (OnnxSegmenter: 2 single-thread workers on a multi-core CPU, 1 on a GPU) unless --workers.
  const segmenter = await OnnxSegmenter.create({
    card,
    modelPath: model.modelPath,
    variantPaths: model.variantPaths,
    device: options.device,
    workers: options.workers,
    logger: log,
  });
  const serverWorkers = segmenter.stats().workers;
  const intraOpThreads = Math.max(1, Math.floor(cores / serverWorkers)); // as OnnxSegmenter and GlomsegApp split the cores
  log(`raw: model '${card.id}' on ${segmenter.device}: the server's pool of ${serverWorkers} worker(s) x ${intraOpThreads} thread(s), then session.run with ${cores} thread(s); ${iterations}+ runs of ${servedInputSize(card)}^2`);
  let pool;
  try {
    pool = await measureSegmenterPool({ segmenter, image: tileImage, iterations, minSeconds });
  } finally {
    await segmenter.dispose();
  }
  const measureRaw = () =>
    // One session with every core: the most the bare model does on this machine, whatever the server's worker split.
    measureSessionRun({ card, modelPath: segmenter.modelPath, device: segmenter.device, intraOpThreads: cores, image: tileImage, iterations, minSeconds });
  const sessionRun = await measureRaw();
  log(`raw session.run: ${sessionRun.msPerRunMedian.toFixed(1)} ms/run, ${sessionRun.keptMpxPerSecond.toFixed(3)} kept Mpx/s; segmenter pool ${pool.keptMpxPerSecond.toFixed(3)} Mpx/s`);

  // The server in its own process; its memory sampled all along.
  const server = await ServerProcess.start({
    slideFolders: [path.dirname(slide.path)],
    modelFolder: options.models,
    device: options.device,
    workers: options.workers,
    onLog: (line) => process.env.GLOMSEG_BENCH_VERBOSE && log(`server: ${line}`),
  });
  const sampler = await RssSampler.start(server.pid, 200);
  const client = await connectGlomseg(server.address, undefined, undefined, { 'grpc.max_receive_message_length': CLIENT_RECEIVE_LIMIT });
  try {
    const slideId = path.basename(slide.path);
    const rssAfterStart = (await sampler.sample()).rssBytes;
    const models = (await client.api.listModels(listModelsRequestToProto({ slideId, mppOverride: options.mpp }))).models.map(modelFromProto);
    const served = models.find((m) => m.card.id === card.id);
    const grid = served?.grid;
    if (!served || !grid) throw new Error(`the server has no model ${card.id} with a grid on ${slideId}`);

    const viewports = await measureViewports(client, { slideId, modelId: card.id, grid, count: options.viewports, mpp: options.mpp, threshold: card.threshold });

    let endToEnd: object | undefined;
    let ratios: object | undefined;
    let scoringRss: RssSummary | undefined;
    let sessionRunAfter: typeof sessionRun | undefined;
    if (options.score) {
      sampler.resetMax();
      const cpuBefore = await readProcessCpuSeconds(server.pid);
      const scored = await scoreSlide(client, { slideId, modelId: card.id, mpp: options.mpp });
      const serverCpuSeconds = (await readProcessCpuSeconds(server.pid)) - cpuBefore;
      scoringRss = sampler.summary();
      // Raw again, right after (the server is idle now): on a shared machine, load drifts during a long run.
      sessionRunAfter = await measureRaw();
      log(`raw session.run after: ${sessionRunAfter.msPerRunMedian.toFixed(1)} ms/run, ${sessionRunAfter.keptMpxPerSecond.toFixed(3)} kept Mpx/s`);
      const rawMpx = (sessionRun.keptMpxPerSecond + sessionRunAfter.keptMpxPerSecond) / 2;
      const rawMsPerRun = (sessionRun.msPerRunMedian + sessionRunAfter.msPerRunMedian) / 2;
      const rawCpuMsPerRun = (sessionRun.msPerRunMedian * sessionRun.cpuCoresUsed + sessionRunAfter.msPerRunMedian * sessionRunAfter.cpuCoresUsed) / 2;
      const keptPixels = (grid.slideWidth / grid.scale) * (grid.slideHeight / grid.scale);
      const keptMpxPerSecond = keptPixels / (scored.wallMs / 1000) / 1e6;
      const tiles = scored.tiles;
      const perTile = (ms: number) => Math.round((ms / tiles) * 10) / 10;
      endToEnd = {
        method: 'ScoreSlide (whole slide) over gRPC from this process to the server process',
        tiles,
        keptModelPixels: keptPixels,
        wallSeconds: scored.wallMs / 1000,
        serverElapsedSeconds: scored.result.elapsedMs / 1000,
        tilesPerSecond: tiles / (scored.wallMs / 1000),
        keptMpxPerSecond,
        polygons: scored.result.polygons.length,
        streamMessages: scored.messages,
        largestMessageBytes: scored.largestMessageBytes,
        clientReceiveLimitBytes: CLIENT_RECEIVE_LIMIT,
        // Summed over tiles; tiles overlap in time (reads run beside inference), so these add up to more than wall time.
        meanPerTileMs: {
          read: perTile(scored.result.totalTimings.readMs),
          inference: perTile(scored.result.totalTimings.inferenceMs),
          postprocess: perTile(scored.result.totalTimings.postprocessMs),
          queue: perTile(scored.result.totalTimings.queueMs),
        },
        /** Share of the wall time the model alone would need at the raw session.run rate (before and after, averaged). */
        modelBusyShare: (tiles * rawMsPerRun) / scored.wallMs,
        /** CPU seconds the server process used per second of scoring (all threads): how many cores it got. */
        serverCpuCoresUsed: serverCpuSeconds / (scored.wallMs / 1000),
        serverCpuMsPerTile: (serverCpuSeconds * 1000) / tiles,
        rawCpuMsPerRun,
      };
      ratios = {
        endToEndOverSessionRun: keptMpxPerSecond / rawMpx,
        endToEndOverSessionRunBefore: keptMpxPerSecond / sessionRun.keptMpxPerSecond,
        endToEndOverSessionRunAfter: keptMpxPerSecond / sessionRunAfter.keptMpxPerSecond,
        endToEndOverSegmenterPool: keptMpxPerSecond / pool.keptMpxPerSecond,
        // Load-independent view: CPU time of a bare model run over the server's CPU time per tile (all of its work).
        cpuPerTileRawOverEndToEnd: rawCpuMsPerRun / ((serverCpuSeconds * 1000) / tiles),
      };
    }
    const rss = await sampler.stop();
    const memory = {
      afterStartBytes: rssAfterStart,
      maxSampledWhileScoringBytes: scoringRss?.maxSampledRssBytes,
      peakBytes: rss.hwmBytes,
      peakSource: 'VmHWM of the server process (/proc/<pid>/status): its peak over its whole life',
      samples: rss.samples,
    };
    const ratio = (ratios as { endToEndOverSessionRun?: number } | undefined)?.endToEndOverSessionRun;
    return {
      benchmark: 'glomseg',
      date: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine,
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
      device: { requested: options.device, used: segmenter.device, modelFile: displayPath(segmenter.modelPath), serverReports: served.device },
      model: {
        id: card.id,
        tileSize: card.tileSize,
        margin: card.margin,
        inputSize: servedInputSize(card),
        mpp: card.mpp,
        downsample: card.downsample,
        variants: card.variants ?? {},
      },
      slide: slideInfo,
      grid: { scale: grid.scale, level: grid.level, tileSizeLevel0: grid.tileSizeLevel0, cols: grid.cols, rows: grid.rows, mppAssumed: grid.mppAssumed },
      server: { workers: serverWorkers, intraOpThreads, startup: server.startupLog.filter((l) => /inference|model|listening/.test(l)) },
      definitions: {
        keptMpxPerSecond:
          'millions of model-resolution output pixels kept per second: tileSize^2 per model run (the margin is read and computed but not counted); ' +
          'end to end: the slide area in model pixels (level-0 area / scale^2) divided by the ScoreSlide wall time seen by the client',
        raw: 'sessionRun: onnxruntime session.run on one session in a loop, same options, provider and file as the server worker, ' +
          'measured before and again after ScoreSlide; the ratio uses the mean of the two rates; ' +
          'segmenterPool: the server\'s OnnxSegmenter (worker threads, pre/post-processing) with the server\'s worker settings',
      },
      raw: {
        sessionRun: { ...sessionRun, modelFile: displayPath(sessionRun.modelFile) },
        sessionRunAfterScoring: sessionRunAfter && { ...sessionRunAfter, modelFile: displayPath(sessionRunAfter.modelFile) },
        segmenterPool: pool,
      },
      endToEnd,
      ratios,
      viewport: viewports,
      memory,
      targets: {
        endToEndOverRawAtLeast: TARGETS.endToEndOverRaw,
        endToEndOverRawMet: ratio === undefined ? undefined : ratio >= TARGETS.endToEndOverRaw,
        peakRssBelowBytes: TARGETS.peakRssBytes,
        peakRssMet: rss.hwmBytes < TARGETS.peakRssBytes,
      },
    };
  } finally {
    client.close();
    await server.close();
  }
}

/**
 * Viewports at distinct, not yet computed places of the slide, each off the tile grid so it touches 3 x 2 (or more)
 * model tiles, requested centre first as the viewer does. They use a threshold 0.001 above the card's, so their
 * tiles do not pre-fill the result cache that ScoreSlide would then reuse.
 */
async function measureViewports(
  client: GlomsegConnection,
  options: { slideId: string; modelId: string; grid: TileGrid; count: number; mpp?: number; threshold: number },
) {
  const { grid } = options;
  const results = [];
  for (let i = 0; i < options.count; i++) {
    // Spread along the diagonal, away from the edges, offset from tile corners.
    const fx = (i + 1) / (options.count + 1);
    const fy = ((i * 2 + 1) % (options.count + 1) || 1) / (options.count + 1);
    const x = Math.floor((grid.slideWidth - VIEWPORT.width) * fx) + Math.round(grid.tileSizeLevel0 / 3);
    const y = Math.floor((grid.slideHeight - VIEWPORT.height) * fy) + Math.round(grid.tileSizeLevel0 / 3);
    const rect = {
      x: Math.min(x, grid.slideWidth - VIEWPORT.width),
      y: Math.min(y, grid.slideHeight - VIEWPORT.height),
      ...VIEWPORT,
    };
    const tiles = tilesInRect(grid, rect);
    const started = performance.now();
    let firstMs: number | undefined;
    let received = 0;
    let cached = 0;
    const request = streamTilesRequestToProto({ slideId: options.slideId, modelId: options.modelId, tiles, mppOverride: options.mpp, threshold: options.threshold + 0.001 });
    for await (const result of client.api.streamTiles(request)) {
      firstMs ??= performance.now() - started;
      received++;
      if (result.cached) cached++;
    }
    const lastMs = performance.now() - started;
    results.push({ rect, tiles: tiles.length, received, cached, firstTileMs: round(firstMs ?? NaN), lastTileMs: round(lastMs) });
    log(`viewport ${i + 1}: ${tiles.length} tiles, first ${round(firstMs ?? NaN)} ms, last ${round(lastMs)} ms`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    viewport: VIEWPORT,
    note: 'level-0 pixels (full resolution); model tiles under it requested in one StreamTiles call, centre first; fresh (uncached) areas',
    medianFirstTileMs: median(results.map((r) => r.firstTileMs)),
    medianLastTileMs: median(results.map((r) => r.lastTileMs)),
    runs: results,
  };
}

async function scoreSlide(client: GlomsegConnection, options: { slideId: string; modelId: string; mpp?: number }) {
  const started = performance.now();
  let result: ScoreResult | undefined;
  let tiles = 0;
  let lastLogged = 0;
  const wire = client.api.scoreSlide(scoreSlideRequestToProto({ slideId: options.slideId, modelId: options.modelId, mppOverride: options.mpp }));
  // The largest message the client received (the bench's client keeps gRPC's usual 4 MiB receive limit).
  let messages = 0;
  let largestMessageBytes = 0;
  const events = (async function* () {
    for await (const event of wire) {
      messages++;
      largestMessageBytes = Math.max(largestMessageBytes, toBinary(ScoreSlideEventSchema, event).length);
      yield event;
    }
  })();
  for await (const event of scoreEventsFromProto(events)) {
    if (event.kind === 'progress') {
      tiles = event.progress.tilesTotal;
      const now = performance.now();
      if (now - lastLogged > 15_000) {
        lastLogged = now;
        const { tilesDone, tilesTotal, etaMs } = event.progress;
        log(`ScoreSlide: ${tilesDone}/${tilesTotal} tiles, ${((now - started) / 1000).toFixed(0)} s, eta ${(etaMs / 1000).toFixed(0)} s`);
      }
    }
    else result = event.result;
  }
  const wallMs = performance.now() - started;
  if (!result) throw new Error('ScoreSlide ended without a result');
  return { wallMs, tiles, result, messages, largestMessageBytes };
}

/** Repo-relative when inside the repo, else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(REPO_ROOT, file);
  return relative.startsWith('..') ? file : relative;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

const program = new Command('bench')
  .description('raw model vs end-to-end (gRPC ScoreSlide) throughput, viewport latency and server memory, as JSON')
  .addOption(new Option('-d, --device <device>', deviceHelp()).choices(deviceChoices()).default('auto'))
  .option('--slide <file>', 'slide to score (default: a generated mirror-tiled BigTIFF, made if missing)')
  .option('--size <px>', 'edge of the generated slide (default 61440, or 16384 with --quick)', positiveInteger)
  .option('--quick', 'smoke run: a 16k slide and fewer raw runs', false)
  .option('--json-out <file>', 'also write the JSON here', path.join(REPO_ROOT, 'bench-out/bench.json'))
  .option('--raw-iterations <n>', 'timed model runs (default: 40 and at least 10 s; 10 and 3 s with --quick)', positiveInteger)
  .option('-m, --models <dir>', 'model folder', path.join(REPO_ROOT, 'models'))
  .option('--model <id>', 'model id (default: the registry default)')
  .option('--workers <n>', 'server inference workers (default: the server\'s, 2 on a multi-core CPU, 1 on a GPU)', positiveInteger)
  .option('--viewports <n>', 'viewport latency samples', positiveInteger, 3)
  .option('--mpp <um>', 'slide pixel size to assume (default: the file\'s)', positiveNumber)
  .option('--no-score', 'skip the end-to-end ScoreSlide run')
  .action(async (opts) => {
    const report = await run({ ...opts, models: path.resolve(opts.models) } as BenchOptions);
    const json = JSON.stringify(report, null, 2);
    await mkdir(path.dirname(path.resolve(opts.jsonOut)), { recursive: true });
    await writeFile(opts.jsonOut, `${json}\n`);
    process.stdout.write(`${json}\n`);
    log(`wrote ${opts.jsonOut}`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A GlomsegError says what is wrong in words (e.g. no CUDA provider); anything else gets its stack.
  const known = error instanceof Error && 'code' in error && typeof (error as { code: unknown }).code === 'string';
  process.stderr.write(`bench: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = 1;
}
