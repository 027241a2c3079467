/** `glomseg health`: a server's gRPC health, as an exit code for container health checks. */
import { checkHealth } from '../health-command.js';
import { positiveNumber } from '../option-parsers.js';
import type { CliCommand } from './command.js';

export const healthCommand: CliCommand = (program) => {
  program
    .command('health')
    .description('ask a server for its gRPC health (exit 0 when SERVING): for container health checks')
    .option('--server <target>', 'server to ask', '127.0.0.1:50051')
    .option(
      '--service <name>',
      "health service name ('' = the whole server; 'liveness' stays SERVING while draining)",
      '',
    )
    .option('--timeout <s>', 'seconds to wait for an answer', positiveNumber, 5)
    .action(async (opts) => {
      const status = await checkHealth(opts.server, opts.service, opts.timeout * 1000);
      process.stdout.write(`${status}\n`);
      process.exitCode = status === 'SERVING' ? 0 : 1;
    });
};
