/**
 * bench:hardening's lockout cases (issue 26), against a server with a token and default caps: peers without a token
 * filling the gRPC port with refused and health calls, and silent sockets on the HTTP port (also reopened as fast as
 * they are dropped), with how many real clients got in and the health latency meanwhile.
 */
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createClient } from '@connectrpc/connect';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { Health } from '@glomseg/api/gen/health/v1/health_pb.js';
import { GrpcJsTransport } from '../client/grpc-js-transport.js';
import { EVAL_REGION, MODELS } from '../repo-paths.mjs';
import { ServerProcess } from './server-process.js';
import { healthColumns, healthWhile, type HealthClient, type HealthWhile } from './health-while.js';
import { SocketAttack, type AttackSocketKind, type AttackSummary } from './socket-attack.js';

/** The lockout cases: the figures, past the default cap of 4,096. */
const LOCKOUT_CONNECTIONS = 4_300;
const HTTP_IDLE_SOCKETS = 5_000;
/** Attackers spread over this many loopback addresses, to get past the bound per peer address (256 by default). */
const ATTACK_ADDRESSES = Array.from({ length: 24 }, (_, i) => `127.0.0.${2 + i}`);
const BENCH_TOKEN = 'bench-hardening-token-0123456789';

const split = (address: string) => ({
  host: address.slice(0, address.lastIndexOf(':')),
  port: Number(address.slice(address.lastIndexOf(':') + 1)),
});
const tally = (summary: AttackSummary) =>
  Object.entries(summary.answers)
    .map(([answer, n]) => `${answer} x${n}`)
    .join(', ');

/** `count` clients with the token, one after another, each on a connection of its own: how many were answered. */
async function clientsWithToken(address: string, metadata: grpc.Metadata, count: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const transport = new GrpcJsTransport(address, {
      metadata,
      channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
    });
    ok += await createClient(Glomseg, transport)
      .listSlides({}, { timeoutMs: 30_000 })
      .then(
        () => 1,
        () => 0,
      );
    transport.close();
  }
  return ok;
}

/** `count` browsers, 5 at a time, each request on a socket of its own: the viewer page, and /metrics with the token. */
async function browsers(httpUrl: string, count: number): Promise<number> {
  const get = (pathname: string, headers: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const request = http.get(`${httpUrl}${pathname}`, { agent: false, headers }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200 ? 1 : 0));
        response.on('error', () => resolve(0));
      });
      request.on('error', () => resolve(0));
      request.setTimeout(30_000, () => request.destroy());
    });
  let ok = 0;
  for (let i = 0; i < count; i += 5) {
    const wave = Array.from({ length: Math.min(5, count - i) }, (_, k) =>
      (i + k) % 2 ? get('/metrics', { authorization: `Bearer ${BENCH_TOKEN}` }) : get('/', {}),
    );
    ok += (await Promise.all(wave)).reduce((a, b) => a + b, 0);
  }
  return ok;
}

/**
 * The lockout cases of issue 26 against a server with a token, default caps. The attackers run in a process of
 * their own; the health probes carry the token (an operator's probe, on one connection).
 */
export async function lockoutCases(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-bench-'));
  const tokenFile = path.join(dir, 'tokens.txt');
  await writeFile(tokenFile, `${BENCH_TOKEN}\n`);
  const server = await ServerProcess.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    device: 'cpu',
    http: true,
    args: ['--auth-token-file', tokenFile],
  });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${BENCH_TOKEN}`);
  const healthTransport = new GrpcJsTransport(server.address, {
    metadata,
    channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
  });
  const health = createClient(Health, healthTransport);
  try {
    await health.check({ service: 'glomseg.v1.Glomseg' }, { timeoutMs: 10_000 });
    console.log(
      `\n## lockout (a server with --auth-token-file, default caps; attackers from ${ATTACK_ADDRESSES.length} loopback addresses, in a process of their own)`,
    );
    console.log(
      "| case | real clients answered | attackers' answers | case s | probes | health p50 ms | p99 ms | max ms | failed |",
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const lockout of lockoutTable(server, metadata)) {
      const { attackers, health: r } = await runLockoutCase(health, lockout);
      console.log(`| ${lockout.name} | ${r.status} | ${attackers} | ${healthColumns(r)} |`);
    }
    const metrics = await (
      await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } })
    ).text();
    const evicted = /^glomseg_grpc_connections_closed_total\{reason="evicted"\} (\d+)/m.exec(metrics)?.[1];
    const refused = /^glomseg_grpc_connections_closed_total\{reason="refused"\} (\d+)/m.exec(metrics)?.[1];
    console.log(`gRPC port afterwards: evicted ${evicted}, refused ${refused}`);
  } finally {
    healthTransport.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One lockout case: who attacks which port how, and the real clients that try to get in meanwhile. */
interface LockoutCase {
  name: string;
  target: { host: string; port: number };
  kinds: AttackSocketKind[];
  count: number;
  reopen: boolean;
  /** The real clients: what they got, in words. */
  clients: () => Promise<string>;
}

function lockoutTable(server: ServerProcess, metadata: grpc.Metadata): LockoutCase[] {
  const grpcPort = split(server.address);
  const httpPort = split(new URL(server.httpUrl!).host);
  const table: Array<[string, LockoutCase['target'], AttackSocketKind[], number, boolean, () => Promise<string>]> = [
    [
      `gRPC: ${LOCKOUT_CONNECTIONS} connections each making a call without a token (refused or health), then held`,
      grpcPort,
      ['grpc-without-token', 'grpc-health'],
      LOCKOUT_CONNECTIONS,
      false,
      async () => `${await clientsWithToken(server.address, metadata, 30)}/30 gRPC clients with the token`,
    ],
    [
      `the same, each connection reopened when dropped`,
      grpcPort,
      ['grpc-without-token', 'grpc-health'],
      LOCKOUT_CONNECTIONS,
      true,
      async () => `${await clientsWithToken(server.address, metadata, 30)}/30 gRPC clients with the token`,
    ],
    [
      `HTTP: ${HTTP_IDLE_SOCKETS} silent sockets`,
      httpPort,
      ['silent'],
      HTTP_IDLE_SOCKETS,
      false,
      async () => `${await browsers(server.httpUrl!, 25)}/25 browser requests`,
    ],
    [
      `HTTP: ${HTTP_IDLE_SOCKETS} silent sockets, each reopened when dropped`,
      httpPort,
      ['silent'],
      HTTP_IDLE_SOCKETS,
      true,
      async () => `${await browsers(server.httpUrl!, 40)}/40 browser requests`,
    ],
  ];
  return table.map(([name, target, kinds, count, reopen, clients]) => ({
    name,
    target,
    kinds,
    count,
    reopen,
    clients,
  }));
}

/** The attack from a child process while the real clients try, with the health probes running throughout. */
async function runLockoutCase(
  health: HealthClient,
  { target, kinds, count, reopen, clients }: LockoutCase,
): Promise<{ attackers: string; health: HealthWhile }> {
  let attackers = '';
  const r = await healthWhile(
    health,
    (async () => {
      const attack = await SocketAttack.inChild({ ...target, addresses: ATTACK_ADDRESSES, count, kinds, reopen });
      const answered = await clients();
      const summary = await attack.stop();
      attackers = [tally(summary) || 'no calls', reopen ? `reopened ${summary.reopened}` : '']
        .filter(Boolean)
        .join('; ');
      return answered;
    })(),
  );
  return { attackers, health: r };
}
