/** What every `glomseg` command module shares: its shape, the usage error and the log line. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

/** One command: adds itself, its options and its action to the program. */
export type CliCommand = (program: Command) => void;

/** A mistake in how the command was called: printed as is, exit code 2. */
export class UsageError extends Error {}

/** A parser whose thrown message becomes commander's usage error. */
export function usage<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}

export const log = (message: string) => process.stderr.write(`[glomseg] ${message}\n`);
