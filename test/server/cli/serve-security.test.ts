/**
 * `glomseg serve` with a token file, TLS and JSON logs, as a separate process, called by `glomseg info` (another
 * process) with --server, --tls-ca and --token-file; without the token the CLI reports UNAUTHENTICATED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { EVAL_REGION, MODELS, REPO_ROOT } from '../../helpers/paths.js';
import { makeTestCa, type TestCa } from '../../helpers/test-ca.js';

const CLI = path.join(REPO_ROOT, 'server', 'src', 'cli', 'main.ts');
let ca: TestCa;
let server: ChildProcess;
let port: number;
const logLines: Array<{ time: string; level: string; msg: string }> = [];
let tokenFile: string;

async function glomseg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO_ROOT,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error: any) {
    if (typeof error?.code !== 'number') throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

beforeAll(async () => {
  ca = await makeTestCa();
  tokenFile = path.join(ca.dir, 'token.txt');
  await writeFile(tokenFile, 'cli-test-token-42\n');
  const config = path.join(ca.dir, 'serve.json');
  // The config file names the TLS files relative to itself; the token comes as a flag.
  await writeFile(
    config,
    JSON.stringify({
      tlsCert: path.basename(ca.serverCert),
      tlsKey: path.basename(ca.serverKey),
      limits: { maxTilesPerRequest: 5000 },
    }),
  );
  server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--port',
      '0',
      '--no-http',
      '--slides',
      EVAL_REGION,
      '--models',
      MODELS,
      '--device',
      'cpu',
      '--auth-token-file',
      tokenFile,
      '--config',
      config,
      '--log-format',
      'json',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let buffer = '';
  server.stderr!.setEncoding('utf8');
  const listening = new Promise<void>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${buffer}`)));
    server.stderr!.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        logLines.push(line);
        const match = /gRPC listening on [^:]+:(\d+)/.exec(line.msg);
        if (match) {
          port = Number(match[1]);
          resolve();
        }
      }
    });
  });
  await listening;
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

describe('glomseg serve with credentials', () => {
  it('logs JSON lines that say TLS and token are on', () => {
    const listening = logLines.find((l) => l.msg.startsWith('gRPC listening'))!;
    expect(listening.level).toBe('info');
    expect(Number.isNaN(Date.parse(listening.time))).toBe(false);
    expect(listening.msg).toMatch(/with TLS .*bearer token required/);
  });

  it('answers `glomseg info --server --tls-ca --token-file`, and refuses it without the token', async () => {
    const server = `localhost:${port}`;
    const ok = await glomseg([
      'info',
      'kidney-region.tif',
      '--server',
      server,
      '--tls-ca',
      ca.caCert,
      '--token-file',
      tokenFile,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).width).toBe(6400);
    const refused = await glomseg(['info', 'kidney-region.tif', '--server', server, '--tls-ca', ca.caCert]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED/);
  });
});
