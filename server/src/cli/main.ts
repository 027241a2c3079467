/** The `glomseg` command line: serve, score, info. */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { GlomsegApp } from '../app.js';
import { NO_GPU_FOUND } from '../inference/gpu-presence.js';
import { deviceChoices, deviceHelp, type DeviceChoice } from '../inference/execution-providers.js';
import { STAIN_CHOICES } from '@glomseg/shared/stain-normalization.js';
import { GLOMERULUS_CLASSES } from '@glomseg/shared/ground-truth.js';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { modelFromProto, slideInfoFromProto } from '@glomseg/api/client/from-proto.js';
import { connectGlomseg, type GlomsegConnection } from '../client/grpc-client.js';
import { defaultProgress, expandSlideArguments, PROGRESS_MODES, runScore } from './score-command.js';
import { batchSettingsOf, planBatch } from './score-batch.js';
import { BatchConflictError } from './batch-manifest.js';
import { parseShard } from './shard.js';
import { DEFAULT_RETRY } from './slide-retry.js';
import { isSlideUrl } from './slide-names.js';
import { runMerge } from './merge-command.js';
import { checkHealth } from './health-command.js';
import { expandFolders, readSlideList } from './slide-list.js';
import { addServeSecurityOptions, resolveServeSecurity } from './serve-security.js';
import { loadClientAuth } from '../client/client-credentials.js';
import { createLog } from '../metrics/structured-log.js';
import { DEFAULT_MODEL_FOLDER, DEFAULT_SLIDE_FOLDERS, DEMO_ANNOTATIONS, DEMO_SLIDE_ID } from './paths.js';
import { positiveNumber } from './option-parsers.js';
import { stopWhenLauncherGoes } from './launcher-watch.js';
import { GLOMSEG_VERSION } from './version.js';

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

/** `--truth-class`, repeatable, each a comma list: every name so far. */
function truthClasses(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InvalidArgumentError(`'${value}' names an empty class (give class names, comma separated)`);
  return [...(previous ?? []), ...names];
}

/** A mistake in how the command was called: printed as is, exit code 2. */
class UsageError extends Error {}

/** A parser whose thrown message becomes commander's usage error. */
function usage<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}

const log = (message: string) => process.stderr.write(`[glomseg] ${message}\n`);

/** A gRPC server to talk to: the one given, or one started in this process on a loopback port. */
async function withServer<T>(
  options: {
    server?: string;
    models: string;
    device: DeviceChoice;
    slideFiles: string[];
    slideUrls?: string[];
    warm?: boolean;
    tokenFile?: string;
    tlsCa?: string;
  },
  body: (client: GlomsegConnection) => Promise<T>,
): Promise<T> {
  let app: GlomsegApp | undefined;
  let address = options.server;
  if (!address) {
    app = await GlomsegApp.start({
      slideFolders: [],
      slideFiles: options.slideFiles,
      // The slides the user named by URL, and nothing else, may be fetched.
      slideUrlPrefixes: options.slideUrls,
      modelFolder: options.models,
      device: options.device,
      httpPort: false,
      grpcPort: 0,
      // The model loads before any progress is drawn, so its one line about the device cannot cut through the bar.
      warm: options.warm,
      log: (m) => (process.env.GLOMSEG_VERBOSE || m.includes(NO_GPU_FOUND) ? log(m) : undefined),
    });
    address = app.grpcAddress;
  }
  // Credentials are for a named server; the in-process one is loopback-only and open.
  const auth = options.server ? await loadClientAuth(options) : undefined;
  const client = await connectGlomseg(address, undefined, auth);
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
    .version(GLOMSEG_VERSION)
    .showHelpAfterError()
    .exitOverride();

  addServeSecurityOptions(program
    .command('serve'))
    .description('start the gRPC server (and the viewer / gRPC-Web over HTTP)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'gRPC port', port, 50051)
    .option('--http-port <port>', 'HTTP port for the viewer and gRPC-Web (0: any free port)', port, 8080)
    .option('--no-http', 'do not serve the viewer or gRPC-Web')
    .option('--health-port <port>', 'also serve grpc.health.v1 alone, in plaintext, here: for Kubernetes gRPC probes, which speak no TLS', port)
    .option('-s, --slides <dir...>', 'slide folders to serve', DEFAULT_SLIDE_FOLDERS)
    .option('-m, --models <dir>', 'model folder', DEFAULT_MODEL_FOLDER)
    .addOption(new Option('-d, --device <device>', deviceHelp()).choices(deviceChoices()).default('auto'))
    .option('--workers <n>', 'inference worker threads (default: 2 on CPU with 2+ cores, 1 on GPU)', (v) => Math.round(positiveNumber(v)))
    .option('--demo', 'show the demo slide with its annotations at the viewer root')
    .option('--slide-url-prefix <prefix...>', 'URL prefixes (https://, http://, s3://bucket/) slides may be read from by URL', [])
    .option('--shutdown-grace <s>', 'on SIGTERM/SIGINT/SIGHUP: seconds running calls get to finish (health NOT_SERVING meanwhile)', positiveNumber, 25)
    .addOption(new Option('--log-format <format>', 'log lines as text or JSON objects').choices(['text', 'json']).default('text'))
    .action(async (opts) => {
      const log = createLog(opts.logFormat, (line) => process.stderr.write(line));
      const { security, limits, connections } = await resolveServeSecurity(opts);
      const app = await GlomsegApp.start({
        security,
        limits,
        connections,
        host: opts.host,
        grpcPort: opts.port,
        healthPort: opts.healthPort,
        httpPort: opts.http ? opts.httpPort : false,
        slideFolders: opts.slides.map((s: string) => path.resolve(s)),
        modelFolder: path.resolve(opts.models),
        device: opts.device,
        workers: opts.workers,
        slideUrlPrefixes: opts.slideUrlPrefix,
        demo: opts.demo ? { slideId: DEMO_SLIDE_ID, annotationsPath: DEMO_ANNOTATIONS } : undefined,
        warm: true,
        log,
      });
      log(`gRPC listening on ${app.grpcAddress}${security.tls ? ' with TLS' : ''} (glomseg.v1.Glomseg, grpc.health.v1, reflection)${security.tokens ? ', bearer token required but for health' : ''}`);
      // Handled on every delivery, not once: launchers pass a signal on and send it too (`timeout` to us and to our
      // process group, npm and a terminal's Ctrl-C alike), and a second one left to Node's default would end the drain.
      let draining = false;
      const stop = async (signal: NodeJS.Signals) => {
        if (draining) return log(`${signal}: already draining (up to ${opts.shutdownGrace} s; SIGKILL stops at once)`);
        draining = true;
        log(`${signal}: draining (health NOT_SERVING, new calls refused, up to ${opts.shutdownGrace} s for running ones)`);
        await app.close(opts.shutdownGrace * 1000);
        log('stopped');
        process.exit(0);
      };
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
    });

  program
    .command('score')
    .description('score slides: polygons (GeoJSON), Kaggle RLE (submission.csv) and, with annotations, Dice')
    .argument('[slides...]', 'slide files, folders or globs, URLs (or slide ids with --server)')
    .option('--server <target>', 'glomseg gRPC server(s): host:port, dns:///name:port or ipv4:a:p,b:p (default: start one in this process)')
    .option('--token-file <file>', 'bearer token for --server (first line of the file)')
    .option('--tls-ca <file>', 'PEM CA to trust: talk TLS to --server')
    .option('-a, --annotations <file|dir>', 'ground truth: a file, or a folder matched to slides by name')
    .option(
      '--truth-class <names>',
      `ground-truth classes to count as glomeruli (QuPath class, labelme label; repeat it or give a comma list; "*": every shape) (default: ${GLOMERULUS_CLASSES.join(', ')})`,
      truthClasses,
    )
    .option('-o, --out <dir>', 'write <slide>.geojson, submission.csv and metrics.json here')
    .option('--model <id>', 'model id (default: the server default)')
    .option('--mpp <um>', 'pixel size to assume for slides (um/px at level 0)', positiveNumber)
    .option('--threshold <p>', 'probability threshold (default: the model card)', positiveNumber)
    .option('--region <x,y,w,h>', 'score only this level-0 region', region)
    .addOption(
      new Option('--stain-normalization <method>', "map each slide's colours to the model's reference stain first (auto: as the model card says)")
        .choices(STAIN_CHOICES)
        .default('auto'),
    )
    .option('--include-background', 'also infer tiles that show no tissue (default: skip them)', false)
    .addOption(
      new Option(
        '--progress <mode>',
        'what to write while scoring: bar (progress bars on stderr), json (JSON lines on stdout: start, progress, result, error, retry; the table then goes to stderr) or none (failures only, on stderr) (default: bar when stderr is a terminal, else none)',
      ).choices(PROGRESS_MODES),
    )
    .addOption(new Option('--json', 'the same as --progress json').conflicts('progress'))
    .option('--list <file>', 'more slides, one per line (file paths, slide ids or URLs; # comments)')
    .option('--parallel <n>', 'slides scored at once (spread over the servers)', (v) => Math.round(positiveNumber(v)), 1)
    .option('--attempts <n>', 'tries per slide when its server goes away', (v) => Math.round(positiveNumber(v)), DEFAULT_RETRY.maxAttempts)
    .option('--shard <i/N>', 'score only shard i of N (env/N: i from JOB_COMPLETION_INDEX)', usage(parseShard))
    .option('--no-resume', 'score slides again even if --out already holds them')
    .option('--force', 'score every slide again, replacing what --out holds', false)
    .addOption(new Option('--qupath-objects <type>', 'QuPath object type of the exported polygons').choices(['detection', 'annotation']).default('detection'))
    .option('-m, --models <dir>', 'model folder (in-process server)', DEFAULT_MODEL_FOLDER)
    .addOption(new Option('-d, --device <device>', `${deviceHelp()}, for the in-process server`).choices(deviceChoices()).default('auto'))
    .action(async (slideArgs: string[], opts) => {
      if (opts.list) slideArgs = [...slideArgs, ...(await readSlideList(opts.list))];
      if (slideArgs.length === 0) throw new UsageError('no slides given (as arguments or with --list)');
      const slides = await expandSlideArguments(slideArgs);
      if (slides.length === 0) throw new UsageError(`no slides match ${slideArgs.join(' ')}`);
      const slideFiles = slides.filter((s) => !isSlideUrl(s) && existsSync(s));
      const slideUrls = slides.filter(isSlideUrl);
      // Arguments that are not files fail on their own (reported per slide) unless nothing at all is a file.
      if (!opts.server && slideFiles.length === 0 && slideUrls.length === 0) {
        throw new UsageError(`no such slide file: ${slides.join(' ')} (give a path, or --server to score by slide id)`);
      }
      const settings = batchSettingsOf(opts);
      const plan = await planBatch(slides, { out: opts.out, force: opts.force, resume: opts.resume, shard: opts.shard, settings }).catch((error) => {
        throw error instanceof BatchConflictError ? new UsageError(error.message) : error;
      });
      if (opts.shard) log(`shard ${opts.shard.index}/${opts.shard.count}: ${plan.todo.length + plan.skipped.length} of ${slides.length} slides`);
      if (plan.todo.length === 0) {
        log(plan.skipped.length > 0
          ? `nothing to do: all ${plan.skipped.length} slides are already scored in ${opts.out} (--force scores them again)`
          : 'nothing to do: no slide falls in this shard');
        process.exitCode = 0;
        return;
      }
      if (plan.skipped.length > 0) log(`resuming: ${plan.skipped.length} slides already scored in ${opts.out}, ${plan.todo.length} to go`);
      const { ok, interrupted } = await withServer(
        { server: opts.server, models: opts.models, device: opts.device, slideFiles, slideUrls, warm: true, tokenFile: opts.tokenFile, tlsCa: opts.tlsCa },
        (client) =>
          runScore(client, plan.todo, {
            annotations: opts.annotations,
            truthClasses: opts.truthClass,
            model: opts.model,
            mpp: opts.mpp,
            threshold: opts.threshold,
            region: opts.region,
            stainNormalization: opts.stainNormalization,
            includeBackground: opts.includeBackground,
            progress: opts.json ? 'json' : (opts.progress ?? defaultProgress()),
            parallel: opts.parallel,
            retry: { ...DEFAULT_RETRY, maxAttempts: opts.attempts },
            qupathObjects: opts.qupathObjects,
            batch: plan.batch,
          }),
      );
      process.exitCode = interrupted ? 128 + os.constants.signals[interrupted] : ok ? 0 : 1;
    });

  program
    .command('merge')
    .description('pool the --out folders of several shards into one batch (summaries rebuilt from the slides)')
    .argument('<shards...>', 'the --out folders of the shards (globs allowed: results/shard-*)')
    .requiredOption('-o, --out <dir>', 'the merged batch folder')
    .action(async (shardArgs: string[], opts) => {
      const shards = await expandFolders(shardArgs);
      const { slides } = await runMerge(shards, opts.out).catch((error) => {
        throw error instanceof BatchConflictError ? new UsageError(error.message) : error;
      });
      log(`merged ${slides} slides from ${shards.length} folders into ${opts.out}`);
    });

  program
    .command('health')
    .description('ask a server for its gRPC health (exit 0 when SERVING): for container health checks')
    .option('--server <target>', 'server to ask', '127.0.0.1:50051')
    .option('--service <name>', "health service name ('' = the whole server; 'liveness' stays SERVING while draining)", '')
    .option('--timeout <s>', 'seconds to wait for an answer', positiveNumber, 5)
    .action(async (opts) => {
      const status = await checkHealth(opts.server, opts.service, opts.timeout * 1000);
      process.stdout.write(`${status}\n`);
      process.exitCode = status === 'SERVING' ? 0 : 1;
    });

  program
    .command('info')
    .description('what the server knows of a slide: size, pyramid, pixel size, format, and the model grid on it')
    .argument('<slide>', 'slide file (or slide id with --server)')
    .option('--server <host:port>', 'glomseg gRPC server to use (default: start one in this process)')
    .option('--token-file <file>', 'bearer token for --server (first line of the file)')
    .option('--tls-ca <file>', 'PEM CA to trust: talk TLS to --server')
    .option('-m, --models <dir>', 'model folder (in-process server)', DEFAULT_MODEL_FOLDER)
    .action(async (slide: string, opts) => {
      const [resolved] = await expandSlideArguments([slide]);
      const slideFiles = path.isAbsolute(resolved) ? [resolved] : [];
      const slideUrls = isSlideUrl(resolved) ? [resolved] : [];
      await withServer({ server: opts.server, models: opts.models, device: 'cpu', slideFiles, slideUrls, tokenFile: opts.tokenFile, tlsCa: opts.tlsCa }, async (client) => {
        const listed = slideUrls.length > 0 ? [] : (await client.api.listSlides({})).slides.map((s) => s.id);
        const base = path.basename(resolved);
        const slideId = slideUrls[0] ?? listed.find((id) => id === resolved || id === base || id.endsWith(`/${base}`));
        if (!slideId) throw new Error(`the server has no slide '${base}'`);
        const info = slideInfoFromProto(await client.api.getSlideInfo({ slideId }));
        const models = (await client.api.listModels({ slideId })).models.map(modelFromProto);
        const described = models.map(({ card, device, grid }) => ({ id: card.id, name: card.name, device, mpp: card.mpp, threshold: card.threshold, stain: card.stain?.method, grid }));
        process.stdout.write(`${JSON.stringify({ ...info, models: described }, null, 2)}\n`);
      });
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  stopWhenLauncherGoes();
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
    process.stderr.write(`glomseg: ${describeCallError(error)}\n`);
    process.exitCode = 1;
  }
}

// Run when executed, not when imported (tests read the program's options).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main(process.argv);
