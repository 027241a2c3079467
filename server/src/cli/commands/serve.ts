/** `glomseg serve`: the gRPC server, and the viewer / gRPC-Web over HTTP. */
import path from 'node:path';
import { Option } from 'commander';
import { GlomsegApp } from '../../app.js';
import { createLog, type LogFormat } from '../../metrics/structured-log.js';
import { addServeSecurityOptions, resolveServeSecurity, type ServeSecurityFlags } from '../serve-security.js';
import { addServeAdaptOptions, resolveServeAdapt, type ServeAdaptFlags } from '../serve-adapt.js';
import { DEFAULT_MODEL_FOLDER, DEFAULT_SLIDE_FOLDERS, DEMO_ANNOTATIONS, DEMO_SLIDE_ID } from '../paths.js';
import { port, positiveInteger, positiveNumber } from '../option-parsers.js';
import { deviceChoices, deviceHelp, type DeviceChoice } from '../../inference/execution-providers.js';
import { defaultDataDir } from '../../annotations/file-annotation-store.js';
import { usableDefaultDataDir } from '../../annotations/open-annotations.js';
import type { CliCommand } from './command.js';

/** What commander hands the action: the options below (and the security ones), camel-cased, after their parsers. */
interface ServeFlags extends ServeSecurityFlags, ServeAdaptFlags {
  host: string;
  port: number;
  httpPort: number;
  http: boolean;
  healthPort?: number;
  slides: string[];
  models: string;
  dataDir?: string;
  device: DeviceChoice;
  workers?: number;
  scoreTileSize?: number;
  demo?: boolean;
  slideUrlPrefix: string[];
  shutdownGrace: number;
  logFormat: LogFormat;
}

export const serveCommand: CliCommand = (program) => {
  addServeAdaptOptions(addServeSecurityOptions(program.command('serve')))
    .description('start the gRPC server (and the viewer / gRPC-Web over HTTP)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'gRPC port', port, 50051)
    .option('--http-port <port>', 'HTTP port for the viewer and gRPC-Web (0: any free port)', port, 8080)
    .option('--no-http', 'do not serve the viewer or gRPC-Web')
    .option(
      '--health-port <port>',
      'also serve grpc.health.v1 alone, in plaintext, here: for Kubernetes gRPC probes, which speak no TLS',
      port,
    )
    .option('-s, --slides <dir...>', 'slide folders to serve', DEFAULT_SLIDE_FOLDERS)
    .option('-m, --models <dir>', 'model folder', DEFAULT_MODEL_FOLDER)
    .option(
      '--data-dir <dir>',
      `where saved annotations are kept, created if missing (default ${defaultDataDir()} where writable)`,
    )
    .addOption(new Option('-d, --device <device>', deviceHelp()).choices(deviceChoices()).default('auto'))
    .option('--workers <n>', 'inference worker threads (default: 2 on CPU with 2+ cores, 1 on GPU)', (v) =>
      Math.round(positiveNumber(v)),
    )
    .option(
      '--score-tile-size <px>',
      "ScoreSlide's tile edge in model pixels for every model (default: each card's scoreTileSize, else its tileSize)",
      positiveInteger,
    )
    .option('--demo', 'show the demo slide with its annotations at the viewer root')
    .option(
      '--slide-url-prefix <prefix...>',
      'URL prefixes (https://, http://, s3://bucket/) slides may be read from by URL',
      [],
    )
    .option(
      '--shutdown-grace <s>',
      'on SIGTERM/SIGINT/SIGHUP: seconds running calls get to finish (health NOT_SERVING meanwhile)',
      positiveNumber,
      25,
    )
    .addOption(
      new Option('--log-format <format>', 'log lines as text or JSON objects')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(serve);
};

async function serve(opts: ServeFlags): Promise<void> {
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
    slideFolders: opts.slides.map((s) => path.resolve(s)),
    modelFolder: path.resolve(opts.models),
    dataDir: opts.dataDir ? path.resolve(opts.dataDir) : await usableDefaultDataDir(log),
    device: opts.device,
    workers: opts.workers,
    scoreTileSize: opts.scoreTileSize,
    slideUrlPrefixes: opts.slideUrlPrefix,
    demo: opts.demo ? { slideId: DEMO_SLIDE_ID, annotationsPath: DEMO_ANNOTATIONS } : undefined,
    warm: true,
    adaptation: resolveServeAdapt(opts),
    log,
  });
  log(
    `gRPC listening on ${app.grpcAddress}${security.tls ? ' with TLS' : ''} (glomseg.v1.Glomseg, grpc.health.v1, reflection)${security.tokens ? ', bearer token required but for health' : ''}`,
  );
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
}
