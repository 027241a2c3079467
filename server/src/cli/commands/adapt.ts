/** `glomseg adapt`: fine-tune a model on the reviewed regions saved on a server, with progress, then its figures. */
import { Option } from 'commander';
import { adaptReporter, describeAdaptResult } from '../adapt-progress.js';
import { positiveInteger, positiveNumber } from '../option-parsers.js';
import { addRemoteServerOptions, withRemoteServer, type RemoteServerFlags } from '../remote-server.js';
import type { CliCommand } from './command.js';

interface AdaptFlags extends RemoteServerFlags {
  slides: string[];
  model?: string;
  steps?: number;
  minutes?: number;
  heldOut?: number;
  mpp?: number;
  makeDefault?: boolean;
  progress?: 'bar' | 'lines' | 'json';
}

export const adaptCommand: CliCommand = (program) => {
  addRemoteServerOptions(
    program
      .command('adapt')
      .description(
        "fine-tune a model on the reviewed regions saved for these slides (the server's annotation store): a new " +
          'model version, registered only if it did no worse on held-out regions',
      ),
  )
    .requiredOption('-s, --slides <id...>', 'slide ids whose latest saved reviewed regions to learn from')
    .option('-m, --model <id>', "model to start from (default: the server's default)")
    .option('--steps <n>', 'training steps at most (default: the trainer’s)', positiveInteger)
    .option('--minutes <n>', "training time budget (default: the server's)", positiveNumber)
    .option('--held-out <share>', 'share of the regions held out to judge the new version (default 0.2)', Number)
    .option('--mpp <um/px>', "the slides' pixel size, for files that record none (as score --mpp)", positiveNumber)
    .option('--make-default', 'make the new version the default once registered')
    .addOption(
      new Option('--progress <mode>', 'bar (default on a terminal), lines, or json (JSON lines on stdout)').choices([
        'bar',
        'lines',
        'json',
      ]),
    )
    .action(adapt);
};

async function adapt(flags: AdaptFlags): Promise<void> {
  const reporter = adaptReporter(flags.progress ?? (process.stderr.isTTY ? 'bar' : 'lines'));
  // Ctrl-C cancels the call: the server stops the training and keeps nothing.
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  try {
    await withRemoteServer(flags, async ({ api }) => {
      const events = api.adaptModel(
        {
          slideIds: flags.slides,
          modelId: flags.model ?? '',
          maxSteps: flags.steps,
          maxMinutes: flags.minutes,
          heldOutFraction: flags.heldOut,
          makeDefault: flags.makeDefault === true,
          mppOverride: flags.mpp,
        },
        { signal: controller.signal },
      );
      for await (const { event } of events) {
        if (event.case === 'progress') reporter.progress(event.value);
        else if (event.case === 'result') {
          reporter.stop();
          if (flags.progress === 'json')
            process.stdout.write(
              `${JSON.stringify({ event: 'result', ...event.value, model: event.value.model?.id })}\n`,
            );
          else process.stdout.write(`${describeAdaptResult(event.value)}\n`);
        }
      }
    });
  } finally {
    reporter.stop();
    process.off('SIGINT', cancel);
  }
}
