/**
 * Silent sockets and peers without a token cannot keep browsers out of the HTTP port: at the connection cap a new
 * socket pushes out the oldest one that has not passed the guard (socket-gate.ts), even while the attacker
 * reopens every socket it loses. Real sockets on loopback against the real app, with small caps; the attacker
 * binds several 127.0.0.x addresses (all of 127.0.0.0/8 is loopback on Linux) to get past the bound per peer.
 */
import { afterAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import { readFile, rm } from 'node:fs/promises';
import { GlomsegApp } from '../../../server/src/app.js';
import { BearerTokens } from '../../../server/src/security/bearer-tokens.js';
import { SocketAttack } from '../../../server/src/bench/socket-attack.js';
import { loadTls } from '../../../server/src/security/tls-files.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { makeTestCa } from '../../helpers/test-ca.js';
import { until } from '../../helpers/until.js';

const TOKEN = 'http-gate-test-token-0123456789';
const CONNECTIONS = { maxConnections: 40, maxConnectionsPerPeer: 10, handshakeTimeoutMs: 10 * 60_000 };
const apps: GlomsegApp[] = [];
const attacks: SocketAttack[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const attack of attacks) attack.stop();
  for (const app of apps) await app.close();
  for (const cleanup of cleanups) await cleanup();
});

type Get = (path: string, headers?: Record<string, string>) => Promise<number | string>;

/** A browser's request on a socket of its own: the status, or the error's code when the socket was reset. */
function getter(port: number, ca?: Buffer, agent: http.Agent | false = false): Get {
  return (path, headers = {}) =>
    new Promise((resolve) => {
      const get = ca ? https.get : http.get;
      const request = get({ host: '127.0.0.1', port, path, agent, headers, ca }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      request.setTimeout(30_000, () => request.destroy(new Error('no answer in 30 s')));
    });
}

/**
 * 60 attacker sockets from 6 addresses against a cap of 40, each reopened when lost; then 40 requests from
 * browsers, each on a new socket, 5 at a time (as one browser opens a few sockets to a host at once).
 */
async function browsersUnderAttack(app: GlomsegApp, get: Get, talks: boolean): Promise<Array<number | string>> {
  const port = Number(new URL(app.httpUrl!).port);
  // With `talks`, every other socket makes a request without a token (401) and holds the keep-alive socket.
  const attack = await SocketAttack.start({
    host: '127.0.0.1',
    port,
    addresses: Array.from({ length: 6 }, (_, i) => `127.0.0.${2 + i}`),
    count: 60,
    kinds: talks ? ['silent', 'http-without-token'] : ['silent'],
    reopen: true,
  });
  attacks.push(attack);
  // The port is full and the attacker has been pushed out and come back many times before any browser comes.
  await until(() => attack.reopened >= 100, 60_000);
  // Browsers: the open plugin bundle without a token, and /metrics with it.
  const answers: Array<number | string> = [];
  for (let wave = 0; wave < 8; wave++) {
    answers.push(
      ...(await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          i % 2 ? get('/metrics', { authorization: `Bearer ${TOKEN}` }) : get('/plugin/glomseg-plugin.js'),
        ),
      )),
    );
  }
  attack.stop();
  return answers;
}

/** The attacker was pushed out (not refused), and the cap held. */
function expectEvictions(app: GlomsegApp): void {
  const stats = app.httpConnections()!;
  expect(stats.open).toBeLessThanOrEqual(40);
  expect(stats.evicted).toBeGreaterThan(100);
  expect(stats.refused).toBe(0);
}

describe('HTTP connection gate', () => {
  it('serves every browser while silent and token-less sockets fill the cap and the attacker reopens each one it loses', async () => {
    const app = await GlomsegApp.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      httpPort: 0,
      device: 'cpu',
      security: { tokens: BearerTokens.fromList([TOKEN]) },
      connections: CONNECTIONS,
    });
    apps.push(app);
    const answers = await browsersUnderAttack(app, getter(Number(new URL(app.httpUrl!).port)), true);
    expect(answers).toEqual(answers.map(() => 200));
    expectEvictions(app);
  }, 180_000); // start-up may rebuild the plugin bundle while other files do too

  it('does the same over TLS, where the attacker never finishes a handshake, and trusts a browser that passed the guard', async () => {
    const ca = await makeTestCa();
    cleanups.push(() => rm(ca.dir, { recursive: true, force: true }));
    const tls = await loadTls({ certFile: ca.serverCert, keyFile: ca.serverKey });
    const app = await GlomsegApp.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      httpPort: 0,
      device: 'cpu',
      security: { tokens: BearerTokens.fromList([TOKEN]), tls },
      connections: CONNECTIONS,
    });
    apps.push(app);
    const port = Number(new URL(app.httpUrl!).port);
    const caPem = await readFile(ca.caCert);
    const answers = await browsersUnderAttack(app, getter(port, caPem), false);
    expect(answers).toEqual(answers.map(() => 200));
    expectEvictions(app);
    // A keep-alive browser: its TLS socket counts as trusted once its request passed the guard, and a refused
    // request (no token) does not make another one trusted.
    await until(() => app.httpConnections()!.open === 0);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    expect(await getter(port, caPem, agent)('/metrics', { authorization: `Bearer ${TOKEN}` })).toBe(200);
    expect(app.httpConnections()!).toMatchObject({ open: 1, trusted: 1 });
    const refusedAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    expect(await getter(port, caPem, refusedAgent)('/metrics')).toBe(401);
    expect(app.httpConnections()!).toMatchObject({ open: 2, trusted: 1 });
    agent.destroy();
    refusedAgent.destroy();
  }, 180_000);
});
