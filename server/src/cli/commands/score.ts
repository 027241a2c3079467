/** `glomseg score`: slides to polygons (GeoJSON), Kaggle RLE and, with annotations, Dice. */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { Option, type Command } from 'commander';
import { STAIN_CHOICES, type StainNormalizationChoice } from '@glomseg/shared/stain-normalization.js';
import { GLOMERULUS_CLASSES } from '@glomseg/shared/ground-truth.js';
import { expandSlideArguments, runScore } from '../score-command.js';
import { defaultProgress, PROGRESS_MODES, type ProgressMode } from '../score-progress.js';
import { batchSettingsOf, planBatch } from '../score-batch.js';
import { BatchConflictError } from '../batch-manifest.js';
import { parseShard, type Shard } from '../shard.js';
import { DEFAULT_RETRY } from '../slide-retry.js';
import { isSlideUrl } from '../slide-names.js';
import { readSlideList } from '../slide-list.js';
import { DEFAULT_MODEL_FOLDER } from '../paths.js';
import { positiveNumber, region, truthClasses } from '../option-parsers.js';
import { withServer } from '../with-server.js';
import { batchExportWriters, slideExportWriters } from '../exports/index.js';
import { andList, plural } from '@glomseg/shared/plural.js';
import { deviceChoices, deviceHelp, type DeviceChoice } from '../../inference/execution-providers.js';
import { log, usage, UsageError, type CliCommand } from './command.js';

/** What commander hands the action: the options below, camel-cased, after their parsers and defaults. */
interface ScoreFlags {
  server?: string;
  tokenFile?: string;
  tlsCa?: string;
  annotations?: string;
  truthClass?: string[];
  out?: string;
  model?: string;
  mpp?: number;
  threshold?: number;
  region?: ReturnType<typeof region>;
  stainNormalization: StainNormalizationChoice;
  includeBackground: boolean;
  viewerGrid: boolean;
  progress?: ProgressMode;
  json?: boolean;
  list?: string;
  parallel: number;
  attempts: number;
  shard?: Shard;
  resume: boolean;
  force: boolean;
  qupathObjects: 'detection' | 'annotation';
  models: string;
  device: DeviceChoice;
}

export const scoreCommand: CliCommand = (program) => {
  scoreOptions(
    program
      .command('score')
      .description('score slides: polygons (GeoJSON), Kaggle RLE (submission.csv) and, with annotations, Dice')
      .argument('[slides...]', 'slide files, folders or globs, URLs (or slide ids with --server)'),
  ).action(score);
};

function scoreOptions(command: Command): Command {
  return command
    .option(
      '--server <target>',
      'glomseg gRPC server(s): host:port, dns:///name:port or ipv4:a:p,b:p (default: start one in this process)',
    )
    .option('--token-file <file>', 'bearer token for --server (first line of the file)')
    .option('--tls-ca <file>', 'PEM CA to trust: talk TLS to --server')
    .option('-a, --annotations <file|dir>', 'ground truth: a file, or a folder matched to slides by name')
    .option(
      '--truth-class <names>',
      `ground-truth classes to count as glomeruli (QuPath class, labelme label; repeat it or give a comma list; "*": every shape) (default: ${GLOMERULUS_CLASSES.join(', ')})`,
      truthClasses,
    )
    .option('-o, --out <dir>', `write ${outFiles()} here`)
    .option('--model <id>', 'model id (default: the server default)')
    .option('--mpp <um>', 'pixel size to assume for slides (um/px at level 0)', positiveNumber)
    .option('--threshold <p>', 'probability threshold (default: the model card)', positiveNumber)
    .option('--region <x,y,w,h>', 'score only this level-0 region', region)
    .addOption(
      new Option(
        '--stain-normalization <method>',
        "map each slide's colours to the model's reference stain first (auto: as the model card says)",
      )
        .choices(STAIN_CHOICES)
        .default('auto'),
    )
    .option('--include-background', 'also infer tiles that show no tissue (default: skip them)', false)
    .option(
      '--viewer-grid',
      "score on the viewer's tiles, so the figures equal its live Dice exactly (default: larger windows, faster)",
      false,
    )
    .addOption(
      new Option(
        '--progress <mode>',
        'what to write while scoring: bar (progress bars on stderr), json (JSON lines on stdout: start, progress, result, error, retry; the table then goes to stderr) or none (failures only, on stderr) (default: bar when stderr is a terminal, else none)',
      ).choices(PROGRESS_MODES),
    )
    .addOption(new Option('--json', 'the same as --progress json').conflicts('progress'))
    .option('--list <file>', 'more slides, one per line (file paths, slide ids or URLs; # comments)')
    .option(
      '--parallel <n>',
      'slides scored at once (spread over the servers)',
      (v) => Math.round(positiveNumber(v)),
      1,
    )
    .option(
      '--attempts <n>',
      'tries per slide when its server goes away',
      (v) => Math.round(positiveNumber(v)),
      DEFAULT_RETRY.maxAttempts,
    )
    .option('--shard <i/N>', 'score only shard i of N (env/N: i from JOB_COMPLETION_INDEX)', usage(parseShard))
    .option('--no-resume', 'score slides again even if --out already holds them')
    .option('--force', 'score every slide again, replacing what --out holds', false)
    .addOption(
      new Option('--qupath-objects <type>', 'QuPath object type of the exported polygons')
        .choices(['detection', 'annotation'])
        .default('detection'),
    )
    .option('-m, --models <dir>', 'model folder (in-process server)', DEFAULT_MODEL_FOLDER)
    .addOption(
      new Option('-d, --device <device>', `${deviceHelp()}, for the in-process server`)
        .choices(deviceChoices())
        .default('auto'),
    );
}

/** What --out holds, from the export registry: a new export is in the help without another edit. */
function outFiles(): string {
  return andList([
    ...slideExportWriters().map((writer) => writer.fileName('<slide>')),
    ...batchExportWriters().map((writer) => writer.fileName),
  ]);
}

async function score(slideArgs: string[], opts: ScoreFlags): Promise<void> {
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
  const plan = await planBatch(slides, {
    out: opts.out,
    force: opts.force,
    resume: opts.resume,
    shard: opts.shard,
    settings,
  }).catch((error) => {
    throw error instanceof BatchConflictError ? new UsageError(error.message) : error;
  });
  if (opts.shard)
    log(
      `shard ${opts.shard.index}/${opts.shard.count}: ${plan.todo.length + plan.skipped.length} of ${plural(slides.length, 'slide')}`,
    );
  if (plan.todo.length === 0) {
    log(
      plan.skipped.length > 0
        ? `nothing to do: ${plan.skipped.length === 1 ? 'the 1 slide is' : `all ${plan.skipped.length} slides are`} already scored in ${opts.out} (--force scores them again)`
        : 'nothing to do: no slide falls in this shard',
    );
    process.exitCode = 0;
    return;
  }
  if (plan.skipped.length > 0)
    log(`resuming: ${plural(plan.skipped.length, 'slide')} already scored in ${opts.out}, ${plan.todo.length} to go`);
  const { ok, interrupted } = await withServer(
    {
      server: opts.server,
      models: opts.models,
      device: opts.device,
      slideFiles,
      slideUrls,
      warm: true,
      tokenFile: opts.tokenFile,
      tlsCa: opts.tlsCa,
    },
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
        viewerGrid: opts.viewerGrid,
        progress: opts.json ? 'json' : (opts.progress ?? defaultProgress()),
        parallel: opts.parallel,
        retry: { ...DEFAULT_RETRY, maxAttempts: opts.attempts },
        qupathObjects: opts.qupathObjects,
        batch: plan.batch,
      }),
  );
  process.exitCode = interrupted ? 128 + os.constants.signals[interrupted] : ok ? 0 : 1;
}
