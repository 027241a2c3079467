/** `glomseg merge`: the --out folders of several shards pooled into one batch. */
import { runMerge } from '../merge-command.js';
import { BatchConflictError } from '../batch-manifest.js';
import { expandFolders } from '../slide-list.js';
import { log, UsageError, type CliCommand } from './command.js';

export const mergeCommand: CliCommand = (program) => {
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
};
