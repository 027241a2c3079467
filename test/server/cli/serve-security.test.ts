/**
 * `glomseg serve` with a token file, TLS and JSON logs, as a separate process, called by `glomseg info` (another
 * process) with --server, --tls-ca and --token-file; without the token the CLI reports UNAUTHENTICATED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTestCa, type TestCa } from '../../helpers/test-ca.js';
import { glomseg } from '../../helpers/cli.js';
import { SERVE_EVAL_REGION, startServe, stopServe, type ServeProcess } from '../../helpers/serve-process.js';

let ca: TestCa;
let server: ServeProcess | undefined;
let port: number;
let tokenFile: string;

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
  const flags = ['--no-http', '--auth-token-file', tokenFile, '--config', config];
  server = await startServe([...SERVE_EVAL_REGION, ...flags], (msg) => {
    const match = /gRPC listening on [^:]+:(\d+)/.exec(msg);
    if (match) port = Number(match[1]);
    return Boolean(match);
  });
}, 120_000);

afterAll(async () => {
  await stopServe(server);
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

describe('glomseg serve with credentials', () => {
  it('logs JSON lines that say TLS and token are on', () => {
    expect(server!.otherLines, 'every stderr line is JSON').toEqual([]);
    const listening = server!.lines.find((l) => l.msg.startsWith('gRPC listening'))!;
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
