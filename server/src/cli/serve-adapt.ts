/**
 * `serve`'s adaptation options: who may adapt models and change the default (AdaptModel, SetDefaultModel), and the
 * bounds of the training child process. Nothing is open unless the operator opens it: by default only callers
 * with a token may adapt, so a server without tokens refuses everyone until started with --adapt open.
 */
import { Option, type Command } from 'commander';
import type { AdaptAccess } from '@glomseg/shared/adaptation.js';
import type { AdaptationSettings } from '../adaptation/adaptation-setup.js';
import { DEFAULT_ADAPT_LIMITS } from '../service/adapt-model.js';
import { existingFile, positiveInteger, positiveNumber } from './option-parsers.js';

export const ADAPT_ACCESS: readonly AdaptAccess[] = ['token', 'open', 'off'];

export interface ServeAdaptFlags {
  adapt: AdaptAccess;
  adaptPython?: string;
  adaptThreads?: number;
  adaptMemoryGb?: number;
  adaptMaxMinutes?: number;
  adaptReplay?: string;
}

export function addServeAdaptOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--adapt <who>',
        'who may fine-tune models on saved reviewed regions and change the default model: token (callers with a ' +
          'token; nobody on a server without --auth-token-file), open (anyone), off',
      )
        .choices(ADAPT_ACCESS)
        .default('token'),
    )
    .addOption(new Option('--no-adapt', 'the same as --adapt off'))
    .option('--adapt-python <file>', 'Python with PyTorch for training (default /usr/bin/python3)')
    .option(
      '--adapt-threads <n>',
      'training threads (default: every core; training runs at nice 10, below serving)',
      positiveInteger,
    )
    .option('--adapt-memory-gb <n>', 'address-space limit of the training process, GiB (default 6)', positiveNumber)
    .option(
      '--adapt-max-minutes <n>',
      `longest training time a caller may ask for (default ${DEFAULT_ADAPT_LIMITS.maxMinutes}; ` +
        `${DEFAULT_ADAPT_LIMITS.defaultMinutes} when a caller asks for none)`,
      positiveNumber,
    )
    .option(
      '--adapt-replay <manifest>',
      "the models' own training regions (a manifest from training/replay_regions.py), a third of every training " +
        "batch, so that an adapted model keeps what it knew of its own domain (default: only the lab's regions)",
      existingFile,
    );
}

export function resolveServeAdapt(flags: ServeAdaptFlags): AdaptationSettings {
  const maxMinutes = flags.adaptMaxMinutes;
  return {
    // commander sets `adapt: false` for --no-adapt before `implies` applies: either way it is off.
    access: (flags.adapt as AdaptAccess | false) === false ? 'off' : flags.adapt,
    python: flags.adaptPython,
    threads: flags.adaptThreads,
    memoryBytes: flags.adaptMemoryGb === undefined ? undefined : flags.adaptMemoryGb * 1024 ** 3,
    replay: flags.adaptReplay,
    limits:
      maxMinutes === undefined
        ? undefined
        : { maxMinutes, defaultMinutes: Math.min(maxMinutes, DEFAULT_ADAPT_LIMITS.defaultMinutes) },
  };
}
