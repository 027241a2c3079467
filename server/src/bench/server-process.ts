/**
 * The glomseg server as a separate process (`glomseg serve` on a free loopback port), so the benchmark measures
 * the real deployment: its own memory, its own event loop, gRPC over a socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../repo-paths.mjs';
import { GlomsegError } from '@glomseg/shared/errors.js';

const CLI = path.join(REPO_ROOT, 'server/src/cli/main.ts');

export interface ServerProcessOptions {
  slideFolders: string[];
  modelFolder: string;
  device: string;
  /** Inference workers (default: the serve command's default). */
  workers?: number;
  /** Startup includes loading the model (the server warms it). */
  startTimeoutMs?: number;
  /** More `serve` options (e.g. --slide-url-prefix, --shutdown-grace). */
  args?: string[];
  /** Also serve HTTP (viewer, gRPC-Web, /metrics) on a free port; its URL is `httpUrl`. */
  http?: boolean;
  /** Each line the server writes to stderr. */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export class ServerProcess {
  #exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly address: string,
    /** What the server said while starting (model, device, workers). */
    readonly startupLog: string[],
    exited: Promise<number | null>,
  ) {
    this.#exited = exited;
  }

  /** Resolves with the exit code (null when killed by a signal). */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  /** The HTTP URL, when started with `http`. */
  get httpUrl(): string | undefined {
    for (const line of this.startupLog) {
      const match = /gRPC-Web listening on (https?:\/\/[^\s,]+)/.exec(line);
      if (match) return match[1].replace('0.0.0.0', '127.0.0.1');
    }
    return undefined;
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const args = [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--port',
      '0',
      ...(options.http ? ['--http-port', '0'] : ['--no-http']),
      '--device',
      options.device,
      '--models',
      options.modelFolder,
    ];
    args.push('--slides', ...options.slideFolders);
    if (options.workers !== undefined) args.push('--workers', String(options.workers));
    args.push(...(options.args ?? []));
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'pipe'],
      signal: options.signal,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const startupLog: string[] = [];
    let listening = false;
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new GlomsegError(
              'DEADLINE_EXCEEDED',
              `the server did not start within ${(options.startTimeoutMs ?? 180_000) / 1000} s:\n${startupLog.join('\n')}`,
            ),
          ),
        options.startTimeoutMs ?? 180_000,
      );
      let buffered = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          options.onLog?.(line);
          if (listening) continue;
          startupLog.push(line);
          const match = /gRPC listening on (\S+)/.exec(line);
          if (match) {
            listening = true;
            clearTimeout(timer);
            resolve(match[1]);
          }
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        if (!listening)
          reject(
            new GlomsegError(
              'INTERNAL',
              `the server exited (code ${code}) before listening:\n${startupLog.join('\n')}`,
            ),
          );
      });
    }).catch((error) => {
      child.kill('SIGKILL');
      throw error;
    });
    return new ServerProcess(child, address, startupLog, exited);
  }

  /** SIGTERM (the server closes cleanly), then SIGKILL if it has not gone after `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
