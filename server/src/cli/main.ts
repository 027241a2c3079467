/** The `glomseg` command line: serve, score, info. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { GlomsegApp } from '../app.js';
import { GlomsegClient, describeGrpcError } from './grpc-client.js';
import { expandSlideArguments, runScore } from './score-command.js';
import { DEFAULT_MODEL_FOLDER, DEFAULT_SLIDE_FOLDERS, DEMO_ANNOTATIONS, DEMO_SLIDE_ID } from './paths.js';

const DEVICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const;

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number`);
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`'${value}' is not a port number`);
  return n;
}

function region(value: string) {
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || !parts.every(Number.isFinite) || parts[2] <= 0 || parts[3] <= 0) {
    throw new InvalidArgumentError(`'${value}' is not a region x,y,width,height in level-0 pixels`);
  }
  return { x: parts[0], y: parts[1], width: parts[2], height: parts[3] };
}

/** A mistake in how the command was called: printed as is, exit code 2. */
class UsageError extends Error {}

const log = (message: string) => process.stderr.write(`[glomseg] ${message}\n`);

/** A gRPC server to talk to: the one given, or one started in this process on a loopback port. */
async function withServer<T>(
  options: { server?: string; models: string; device: (typeof DEVICES)[number]; slideFiles: string[] },
  body: (client: GlomsegClient) => Promise<T>,
): Promise<T> {
  let app: GlomsegApp | undefined;
  let address = options.server;
  if (!address) {
    app = await GlomsegApp.start({
      slideFolders: [],
      slideFiles: options.slideFiles,
      modelFolder: options.models,
      device: options.device,
      httpPort: false,
      grpcPort: 0,
      log: (m) => (process.env.GLOMSEG_VERBOSE ? log(m) : undefined),
    });
    address = app.grpcAddress;
  }
  const client = await GlomsegClient.connect(address);
  try {
    return await body(client);
  } finally {
    client.close();
    await app?.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('glomseg')
    .description('Find glomeruli in whole-slide kidney images with a U-Net, over gRPC')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('start the gRPC server (and the viewer / gRPC-Web over HTTP)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'gRPC port', port, 50051)
    .option('--http-port <port>', 'HTTP port for the viewer and gRPC-Web (0: any free port)', port, 8080)
    .option('--no-http', 'do not serve the viewer or gRPC-Web')
    .option('-s, --slides <dir...>', 'slide folders to serve', DEFAULT_SLIDE_FOLDERS)
    .option('-m, --models <dir>', 'model folder', DEFAULT_MODEL_FOLDER)
    .addOption(new Option('-d, --device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .option('--workers <n>', 'inference worker threads (default: 2 on CPU with 2+ cores, 1 on GPU)', (v) => Math.round(positiveNumber(v)))
    .option('--demo', 'show the demo slide with its annotations at the viewer root')
    .action(async (opts) => {
      const app = await GlomsegApp.start({
        host: opts.host,
        grpcPort: opts.port,
        httpPort: opts.http ? opts.httpPort : false,
        slideFolders: opts.slides.map((s: string) => path.resolve(s)),
        modelFolder: path.resolve(opts.models),
        device: opts.device,
        workers: opts.workers,
        demo: opts.demo ? { slideId: DEMO_SLIDE_ID, annotationsPath: DEMO_ANNOTATIONS } : undefined,
        warm: true,
        log,
      });
      log(`gRPC listening on ${app.grpcAddress} (glomseg.v1.Glomseg, grpc.health.v1, reflection)`);
      const stop = async (signal: string) => {
        log(`${signal}: shutting down`);
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  program
    .command('score')
    .description('score slides: polygons (GeoJSON), Kaggle RLE (submission.csv) and, with annotations, Dice')
    .argument('<slides...>', 'slide files, folders or globs (or slide ids with --server)')
    .option('--server <host:port>', 'glomseg gRPC server to use (default: start one in this process)')
    .option('-a, --annotations <file|dir>', 'ground truth: a file, or a folder matched to slides by name')
    .option('-o, --out <dir>', 'write <slide>.geojson, submission.csv and metrics.json here')
    .option('--model <id>', 'model id (default: the server default)')
    .option('--mpp <um>', 'pixel size to assume for slides (um/px at level 0)', positiveNumber)
    .option('--threshold <p>', 'probability threshold (default: the model card)', positiveNumber)
    .option('--region <x,y,w,h>', 'score only this level-0 region', region)
    .option('--json', 'JSON lines instead of a progress bar', false)
    .addOption(new Option('--qupath-objects <type>', 'QuPath object type of the exported polygons').choices(['detection', 'annotation']).default('detection'))
    .option('-m, --models <dir>', 'model folder (in-process server)', DEFAULT_MODEL_FOLDER)
    .addOption(new Option('-d, --device <device>', 'execution provider (in-process server)').choices(DEVICES).default('auto'))
    .action(async (slideArgs: string[], opts) => {
      const slides = await expandSlideArguments(slideArgs);
      if (slides.length === 0) throw new UsageError(`no slides match ${slideArgs.join(' ')}`);
      const slideFiles = slides.filter((s) => existsSync(s));
      // Arguments that are not files fail on their own (reported per slide) unless nothing at all is a file.
      if (!opts.server && slideFiles.length === 0) {
        throw new UsageError(`no such slide file: ${slides.join(' ')} (give a path, or --server to score by slide id)`);
      }
      const { ok } = await withServer({ server: opts.server, models: opts.models, device: opts.device, slideFiles }, (client) =>
        runScore(client, slides, {
          annotations: opts.annotations,
          out: opts.out,
          model: opts.model,
          mpp: opts.mpp,
          threshold: opts.threshold,
          region: opts.region,
          json: opts.json,
          qupathObjects: opts.qupathObjects,
        }),
      );
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('info')
    .description('what the server knows of a slide: size, pyramid, pixel size, format, and the model grid on it')
    .argument('<slide>', 'slide file (or slide id with --server)')
    .option('--server <host:port>', 'glomseg gRPC server to use (default: start one in this process)')
    .option('-m, --models <dir>', 'model folder (in-process server)', DEFAULT_MODEL_FOLDER)
    .action(async (slide: string, opts) => {
      const [resolved] = await expandSlideArguments([slide]);
      const slideFiles = path.isAbsolute(resolved) ? [resolved] : [];
      await withServer({ server: opts.server, models: opts.models, device: 'cpu', slideFiles }, async (client) => {
        const listed: string[] = (await client.unary('ListSlides', {})).slides.map((s: { id: string }) => s.id);
        const base = path.basename(resolved);
        const slideId = listed.find((id) => id === resolved || id === base || id.endsWith(`/${base}`));
        if (!slideId) throw new Error(`the server has no slide '${base}'`);
        const info = await client.unary('GetSlideInfo', { slideId });
        const models = await client.unary('ListModels', { slideId });
        process.stdout.write(`${JSON.stringify({ ...info, models: models.models.map(({ cardJson, ...m }: any) => m) }, null, 2)}\n`);
      });
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error: any) {
    if (error?.code === 'commander.helpDisplayed' || error?.code === 'commander.version') return;
    if (error instanceof UsageError) {
      process.stderr.write(`glomseg: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (typeof error?.code === 'string' && error.code.startsWith('commander.')) {
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`glomseg: ${describeGrpcError(error)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
