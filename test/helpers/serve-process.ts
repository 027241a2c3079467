/** `glomseg serve` as a separate process with JSON log lines, for the tests of the serve command's flags. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { CLI } from './cli.js';
import { EVAL_REGION, MODELS, REPO_ROOT } from './paths.js';

/** Serve the eval region with the shipped model on the CPU, gRPC on any free port; add --no-http or --http-port. */
export const SERVE_EVAL_REGION = [
  'serve',
  '--port',
  '0',
  '--slides',
  EVAL_REGION,
  '--models',
  MODELS,
  '--device',
  'cpu',
];

export interface JsonLogLine {
  level: string;
  time: string;
  msg: string;
}

export interface ServeProcess {
  child: ChildProcess;
  /** Every JSON log line so far. */
  lines: JsonLogLine[];
  /** Lines on stderr that were not JSON. */
  otherLines: string[];
}

/** Starts `glomseg <args> --log-format json`; resolves once `ready` holds for a log message, rejects if it exits first. */
export async function startServe(args: string[], ready: (msg: string) => boolean): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--log-format', 'json'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const serve: ServeProcess = { child, lines: [], otherLines: [] };
  let buffer = '';
  let all = '';
  child.stderr!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${all}`)));
    child.stderr!.on('data', (chunk: string) => {
      buffer += chunk;
      all += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith('{')) {
          serve.otherLines.push(line);
          continue;
        }
        const parsed = JSON.parse(line) as JsonLogLine;
        serve.lines.push(parsed);
        if (ready(parsed.msg)) resolve();
      }
    });
  });
  return serve;
}

/** Ends a serve process that is still running with SIGTERM, and waits for it. */
export async function stopServe(serve: ServeProcess | undefined): Promise<void> {
  if (!serve || serve.child.exitCode !== null) return;
  serve.child.kill('SIGTERM');
  await once(serve.child, 'exit');
}
