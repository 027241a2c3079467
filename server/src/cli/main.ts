/** The `glomseg` command line: serve, score, merge, health, info (one module each, in commands/). */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { stopWhenLauncherGoes } from './launcher-watch.js';
import { GLOMSEG_VERSION } from './version.js';
import { UsageError } from './commands/command.js';
import { COMMANDS } from './commands/registry.js';

export function buildProgram(): Command {
  const program = new Command('glomseg')
    .description('Find glomeruli in whole-slide kidney images with a U-Net, over gRPC')
    .version(GLOMSEG_VERSION)
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  stopWhenLauncherGoes();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // exitOverride: commander throws where it would exit, having printed its message.
    if (error instanceof CommanderError) {
      if (error.code !== 'commander.helpDisplayed' && error.code !== 'commander.version') process.exitCode = 2;
      return;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`glomseg: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`glomseg: ${describeCallError(error)}\n`);
    process.exitCode = 1;
  }
}

// Run when executed, not when imported (tests read the program's options).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main(process.argv);
