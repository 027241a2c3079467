/**
 * The HTTP port's guard and router decide from one canonical path: every route, asked for through a path that a
 * URL parser would rewrite (dot segments, encoded dots and separators, backslashes, double slashes, absolute form),
 * answers 400 before any route runs, with and without a token, on plain HTTP and on HTTPS. The requests go out
 * as written (http.request sends the path as is; fetch would normalise it). A duplicate Host header is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { GlomsegApp } from '../../../server/src/app.js';
import { resolveServeSecurity } from '../../../server/src/cli/serve-security.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, MODELS } from '../../helpers/paths.js';
import { makeTestCa, type TestCa } from '../../helpers/test-ca.js';
import { type } from './grpc-web-client.js';

const TOKEN = 'glomseg-guard-test-token-0123456789';
const TILE = 'api/slides/kidney-region.tif/tiles/2/0/0';

interface Served {
  name: 'http' | 'https';
  app: GlomsegApp;
  port: number;
}
interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
interface Route {
  method: 'GET' | 'POST';
  /** The canonical path without its leading '/'. */
  target: string;
  /** Served without a token. */
  open: boolean;
  /** gRPC-Web request message type. */
  grpcWeb?: string;
}

/** Every route of web-server.ts and app.ts's extra route. */
const ROUTES: Route[] = [
  { method: 'GET', target: '', open: true },
  { method: 'GET', target: 'index.html', open: true },
  { method: 'GET', target: 'plugin/glomseg-plugin.js', open: true },
  { method: 'GET', target: 'metrics', open: false },
  { method: 'GET', target: TILE, open: false },
  { method: 'GET', target: 'api/demo/annotations', open: false },
  ...['ListSlides', 'GetSlideInfo', 'ListModels', 'StreamTiles', 'ScoreSlide'].map((m) => ({
    method: 'POST' as const,
    target: `glomseg.v1.Glomseg/${m}`,
    open: false,
    grpcWeb: `${m}Request`,
  })),
];

/** Ways to name `/<target>` that a URL parser (WHATWG, as the router used) rewrites to it, or that are not origin-form. */
function nonCanonical(target: string, port: number): string[] {
  const first = target.charCodeAt(0);
  const encodedFirst = target ? `%${first.toString(16).toUpperCase()}${target.slice(1)}` : '%2E';
  return [
    `/plugin/../${target}`,
    `/plugin/%2e%2e/${target}`,
    `/plugin/%2E%2E/${target}`,
    `/plugin/.%2e/${target}`,
    `/plugin/%2e./${target}`,
    `/plugin/./../${target}`,
    `/plugin/x/../../${target}`,
    `/plugin//../${target}`,
    `/plugin/..\\${target}`,
    `/plugin\\..\\${target}`,
    `/plugin/..%2f${target}`,
    `/plugin/..%2F${target}`,
    `/plugin/%2e%2e%2f${target}`,
    `/plugin/..%5c${target}`,
    `/index.html/../${target}`,
    `/./${target}`,
    `//${target}`,
    `/${target}/.`,
    `/${encodedFirst}`,
    `/plugin/%2e%2e/${target}?x=1`,
    `http://127.0.0.1:${port}/${target}`,
    `http://127.0.0.1:${port}/plugin/../${target}`,
  ];
}

let ca: TestCa;
let caPem: Buffer;
const servers: Served[] = [];

function grpcWebFrame(typeName: string, message: object): Buffer {
  const t = type(typeName);
  const payload = t.encode(t.fromObject(message)).finish();
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, 5);
  return frame;
}

/** One request with `target` sent exactly as written, on a fresh connection. */
function send(
  server: Served,
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Answer> {
  const common = {
    host: '127.0.0.1',
    port: server.port,
    method,
    path: target,
    headers: options.headers,
    agent: false as const,
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    };
    const req =
      server.name === 'https'
        ? https.request({ ...common, ca: caPem, servername: 'localhost' }, onResponse)
        : http.request(common, onResponse);
    req.on('error', reject);
    req.end(options.body);
  });
}

function requestFor(route: Route, token: boolean) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${TOKEN}` } : {};
  if (!route.grpcWeb) return { headers };
  const message =
    route.grpcWeb === 'ListSlidesRequest' || route.grpcWeb === 'ListModelsRequest'
      ? {}
      : { slideId: 'kidney-region.tif' };
  return {
    headers: { ...headers, 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' },
    body: grpcWebFrame(route.grpcWeb, message),
  };
}

/** A raw exchange over a socket of our own: headers exactly as written (duplicates included). */
function rawExchange(server: Served, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket =
      server.name === 'https'
        ? tls.connect({ host: '127.0.0.1', port: server.port, ca: caPem, servername: 'localhost' }, () =>
            socket.write(text),
          )
        : net.connect(server.port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const reply = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
      resolve({ status, body: reply.slice(reply.indexOf('\r\n\r\n') + 4) });
    });
  });
}

beforeAll(async () => {
  ca = await makeTestCa();
  caPem = await readFile(ca.caCert);
  const tokenFile = path.join(ca.dir, 'tokens.txt');
  await writeFile(tokenFile, `${TOKEN}\n`);
  const demo = { slideId: 'kidney-region.tif', annotationsPath: KIDNEY_REGION_GEOJSON };
  for (const name of ['http', 'https'] as const) {
    const { security } = await resolveServeSecurity(
      name === 'https'
        ? { authTokenFile: tokenFile, tlsCert: ca.serverCert, tlsKey: ca.serverKey }
        : { authTokenFile: tokenFile },
    );
    const app = await GlomsegApp.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      httpPort: 0,
      grpcPort: 0,
      device: 'cpu',
      security,
      demo,
    });
    servers.push({ name, app, port: Number(new URL(app.httpUrl!).port) });
  }
}, 180_000); // start-up may rebuild the plugin bundle while other files do too

afterAll(async () => {
  for (const server of servers) await server.app.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

describe.each(['http', 'https'] as const)('the %s port', (name) => {
  const server = () => servers.find((s) => s.name === name)!;

  it('answers every route asked for through a non-canonical path with 400, before the route runs, token or not', async () => {
    const wrong: string[] = [];
    let asked = 0;
    for (const route of ROUTES) {
      for (const target of nonCanonical(route.target, server().port)) {
        for (const token of [false, true]) {
          for (const method of [route.method, 'OPTIONS'] as const) {
            if (method === 'OPTIONS' && token) continue;
            const request =
              method === 'OPTIONS'
                ? { headers: { origin: 'http://127.0.0.1', 'access-control-request-method': 'GET' } }
                : requestFor(route, token);
            const answer = await send(server(), method, target, request);
            asked++;
            const said =
              answer.headers['content-type'] === 'application/json'
                ? (JSON.parse(answer.body.toString()) as { error?: { code?: string; message?: string } }).error
                : undefined;
            // gRPC-Web clients read the status from headers: 3 is INVALID_ARGUMENT.
            const grpcStatusWrong =
              route.grpcWeb !== undefined && method === 'POST' && answer.headers['grpc-status'] !== '3';
            if (
              answer.status !== 400 ||
              said?.code !== 'INVALID_ARGUMENT' ||
              !/request path/.test(said.message ?? '') ||
              grpcStatusWrong
            ) {
              wrong.push(
                `${method} ${target}${token ? ' (token)' : ''} -> ${answer.status} ${answer.headers['content-type'] ?? ''} ${said?.message ?? ''}`.trim(),
              );
            }
          }
        }
      }
    }
    expect(asked).toBeGreaterThan(400);
    expect(wrong).toEqual([]);
  }, 120_000);

  it('says which rule a refused path broke', async () => {
    const answer = await send(server(), 'GET', '/plugin/%2e%2e/metrics');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body.toString()).error.message).toMatch(
      /request path '\/plugin\/%2e%2e\/metrics': .*'\.\.'/,
    );
  });

  it('still serves canonical paths: open routes without a token, the others only with one (401 without)', async () => {
    for (const route of ROUTES) {
      const without = await send(server(), route.method, `/${route.target}`, requestFor(route, false));
      expect(without.status, `${route.target} without a token`).toBe(route.open ? 200 : 401);
    }
    const withToken = (target: string) =>
      send(server(), 'GET', target, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await withToken('/metrics')).body.toString()).toMatch(/^# HELP glomseg_/m);
    expect((await withToken(`/${TILE}`)).headers['content-type']).toBe('image/jpeg');
    expect((await withToken(`/api/slides/${encodeURIComponent('kidney-region.tif')}/tiles/2/0/0?v=1`)).status).toBe(
      200,
    );
    expect((await withToken('/api/demo/annotations')).headers['content-type']).toBe('application/geo+json');
    const listSlides = ROUTES.find((r) => r.target.endsWith('/ListSlides'))!;
    const slides = await send(server(), 'POST', `/${listSlides.target}`, requestFor(listSlides, true));
    expect(slides.status).toBe(200);
    expect(slides.body.toString('latin1')).toContain('kidney-region.tif');
    // A trailing slash is canonical (nothing there): 404 with the token, 401 without.
    expect((await withToken('/metrics/')).status).toBe(404);
    expect((await send(server(), 'GET', '/metrics/')).status).toBe(401);
  }, 60_000);

  it('refuses a request with more than one Host header (400), whichever comes first', async () => {
    const own = `127.0.0.1:${server().port}`;
    for (const [first, second] of [
      [own, 'attacker.example'],
      ['attacker.example', own],
      [own, own],
    ]) {
      for (const [target, auth] of [
        ['/', ''],
        ['/metrics', `Authorization: Bearer ${TOKEN}\r\n`],
      ]) {
        const answer = await rawExchange(
          server(),
          `GET ${target} HTTP/1.1\r\nHost: ${first}\r\n${auth}hOsT: ${second}\r\nConnection: close\r\n\r\n`,
        );
        expect(answer.status, `${target} Host ${first} then ${second}`).toBe(400);
        expect(answer.body).toMatch(/more than one Host header/);
      }
    }
    const single = await rawExchange(
      server(),
      `GET /metrics HTTP/1.1\r\nHost: ${own}\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`,
    );
    expect(single.status).toBe(200);
  });
});
