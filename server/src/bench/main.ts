/**
 * `npm run bench`: one run measures, side by side on the same machine,
 * - raw model throughput: session.run in a loop on the served input size, and the server's segmenter pool;
 * - end-to-end throughput: ScoreSlide on a large pyramidal BigTIFF, through gRPC, against a server in its own
 *   process; and the ratio of the two (both in kept model pixels per second);
 * - viewport latency: StreamTiles for the model tiles under a 1920 x 1080 level-0 viewport, first and last tile;
 * - the server's memory: RSS sampled every 200 ms and the kernel's peak (VmHWM).
 * Prints one JSON document (stdout and --json-out); progress goes to stderr.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { deviceChoices, deviceHelp, type DeviceChoice } from '../inference/execution-providers.js';
import { modelFromProto } from '@glomseg/api/client/from-proto.js';
import { listModelsRequestToProto } from '@glomseg/api/client/to-proto.js';
import { connectGlomseg } from '../client/grpc-client.js';

import { machineInfo } from './machine-info.js';
import { RssSampler } from './rss-sampler.js';
import { ServerProcess } from './server-process.js';
import { REPO_ROOT } from '../repo-paths.mjs';
import { positiveInteger, positiveNumber } from '../cli/option-parsers.js';
import { log } from './bench-log.js';
import { ensureSlide, sampleTile, type BenchSlide } from './bench-slide.js';
import { benchSetups, DEFAULT_SETUPS, type BenchSetup } from './bench-setups.js';
import { compareSetups, type SetupFigures } from './bench-comparison.js';
import { measureRawPhase } from './raw-phase.js';
import { measureViewports } from './viewport-latency.js';
import { CLIENT_RECEIVE_LIMIT, measureScoring } from './score-phase.js';
import { benchReport } from './bench-report.js';

interface BenchOptions {
  device: DeviceChoice;
  slide?: string;
  size?: number;
  quick: boolean;
  halfGlass: boolean;
  jsonOut: string;
  rawIterations?: number;
  models: string;
  model: string[];
  setup: string[];
  workers?: number;
  viewports: number;
  mpp?: number;
  score: boolean;
}

async function run(options: BenchOptions): Promise<object> {
  const machine = await machineInfo();
  log(`${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}`);
  const slide = await ensureSlide(options);
  const { setups, skipped, root } = await benchSetups({
    models: options.models,
    model: options.model,
    setups: options.setup,
  });
  for (const line of skipped) log(`skipped: ${line}`);
  const measured: SetupFigures[] = [];
  try {
    for (const setup of setups) {
      const file = path.basename(setup.model.variantPaths.cpu ?? setup.model.modelPath);
      log(`setup ${setup.name}: ScoreSlide on ${setup.scoreTileSize} px tiles, ${file} on the CPU`);
      measured.push(await measureSetup(setup, slide, options));
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return {
    benchmark: 'glomseg',
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    comparison: compareSetups(measured),
    skipped,
    setups: measured.map((m) => m.report),
  };
}

/** One setup: raw at its ScoreSlide window, then its own server process for viewports, ScoreSlide and memory. */
async function measureSetup(setup: BenchSetup, slide: BenchSlide, options: BenchOptions): Promise<SetupFigures> {
  const { card } = setup.model;
  // Raw is measured on the window ScoreSlide runs (its tile plus the margin), kept pixels counted alike.
  const scoreCard = { ...card, tileSize: setup.scoreTileSize };
  const { tileImage, slideInfo } = await sampleTile(slide, scoreCard, options.mpp);
  // Raw throughput first, before the server exists, so nothing competes with it.
  const raw = await measureRawPhase({ ...setup.model, card: scoreCard }, tileImage, options);
  // The server in its own process; its memory sampled all along.
  const server = await ServerProcess.start({
    slideFolders: [path.dirname(slide.path)],
    modelFolder: setup.folder,
    device: options.device,
    workers: options.workers,
    onLog: (line) => process.env.GLOMSEG_BENCH_VERBOSE && log(`server: ${line}`),
  });
  const sampler = await RssSampler.start(server.pid, 200);
  const client = await connectGlomseg(server.address, undefined, undefined, {
    'grpc.max_receive_message_length': CLIENT_RECEIVE_LIMIT,
  });
  try {
    const slideId = path.basename(slide.path);
    const rssAfterStart = (await sampler.sample()).rssBytes;
    const models = (
      await client.api.listModels(listModelsRequestToProto({ slideId, mppOverride: options.mpp }))
    ).models.map(modelFromProto);
    const served = models.find((m) => m.card.id === card.id);
    const grid = served?.grid;
    if (!served || !grid) throw new Error(`the server has no model ${card.id} with a grid on ${slideId}`);
    const viewports = await measureViewports(client, {
      slideId,
      modelId: card.id,
      grid,
      count: options.viewports,
      mpp: options.mpp,
      threshold: card.threshold,
    });
    const scoring = options.score
      ? await measureScoring(
          client,
          { pid: server.pid, sampler },
          { slideId, modelId: card.id, mpp: options.mpp, grid },
          raw,
        )
      : undefined;
    const rss = await sampler.stop();
    const report = benchReport({
      setup: { name: setup.name, precision: setup.precision, scoreTileSize: setup.scoreTileSize },
      machine: await machineInfo(),
      requestedDevice: options.device,
      card,
      slideInfo,
      grid,
      servedDevice: served.device,
      serverStartupLog: server.startupLog,
      raw,
      scoring,
      viewports,
      rssAfterStart,
      rss,
    });
    return { setup, report, scoring, rss };
  } finally {
    client.close();
    await server.close();
  }
}

const program = new Command('bench')
  .description('raw model vs end-to-end (gRPC ScoreSlide) throughput, viewport latency and server memory, as JSON')
  .addOption(new Option('-d, --device <device>', deviceHelp()).choices(deviceChoices()).default('auto'))
  .option('--slide <file>', 'slide to score (default: a generated mirror-tiled BigTIFF, made if missing)')
  .option('--size <px>', 'edge of the generated slide (default 61440, or 16384 with --quick)', positiveInteger)
  .option('--quick', 'smoke run: a 16k slide and fewer raw runs', false)
  .option('--json-out <file>', 'also write the JSON here', path.join(REPO_ROOT, 'bench-out/bench.json'))
  .option(
    '--raw-iterations <n>',
    'timed model runs (default: 40 and at least 10 s; 10 and 3 s with --quick)',
    positiveInteger,
  )
  .option('-m, --models <dir>', 'model folder', path.join(REPO_ROOT, 'models'))
  .option(
    '--model <id|folder>',
    'a model id in --models, or a folder holding a card; repeat to compare models (default: the registry default)',
    (value: string, previous: string[]) => [...previous, value],
    [],
  )
  .option(
    '--setup <p@tile>',
    `precision@ScoreSlide tile: fp32|int8 @ small|score|<model px>; repeat (default: ${DEFAULT_SETUPS.join(' ')})`,
    (value: string, previous: string[]) => [...previous, value],
    [],
  )
  .option(
    '--half-glass',
    'generate (if missing) and score a slide of tissue on its left half and glass on its right',
    false,
  )
  .option(
    '--workers <n>',
    "server inference workers (default: the server's, 2 on a multi-core CPU, 1 on a GPU)",
    positiveInteger,
  )
  .option('--viewports <n>', 'viewport latency samples', positiveInteger, 3)
  .option('--mpp <um>', "slide pixel size to assume (default: the file's)", positiveNumber)
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
