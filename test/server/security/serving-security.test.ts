/**
 * Credentials and exposure, end to end on the real app: bearer tokens on every gRPC, gRPC-Web and HTTP route
 * (health open), TLS on both ports with a CA made for the test (grpc-js and `buf curl` as clients), mutual TLS,
 * a CORS allowlist instead of `*`, the Host check, and the warning for a public bind without credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GlomsegApp } from '../../../server/src/app.js';
import { createClient, type Client } from '@connectrpc/connect';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { Health, HealthCheckResponse_ServingStatus } from '@glomseg/api/gen/health/v1/health_pb.js';
import { GrpcJsTransport } from '../../../server/src/client/grpc-js-transport.js';
import { statusOf } from '../../helpers/grpc.js';
import { resolveServeSecurity } from '../../../server/src/cli/serve-security.js';
import { exposureWarning } from '../../../server/src/security/exposure.js';
import { BearerTokens } from '../../../server/src/security/bearer-tokens.js';
import { EVAL_REGION, MODELS, REPO_ROOT } from '../../helpers/paths.js';
import { makeTestCa, type TestCa } from '../../helpers/test-ca.js';
import { type } from '../web/grpc-web-client.js';

const run = promisify(execFile);
const TOKEN = 'glomseg-test-token-0123456789';
const PORTAL = 'http://portal.example';

let ca: TestCa;
let caPem: Buffer;
let app: GlomsegApp;
let tlsClient: ReturnType<typeof grpcJsClient<typeof Glomseg>>;
let grpcPort: number;
let httpPort: number;

/** A typed client over a grpc-js channel with these credentials (TLS, mutual TLS). */
function grpcJsClient<S extends typeof Glomseg | typeof Health>(
  service: S,
  address: string,
  credentials?: grpc.ChannelCredentials,
): Client<S> & { close(): void } {
  const transport = new GrpcJsTransport(address, { credentials });
  return Object.assign(createClient(service, transport), { close: () => transport.close() });
}

function withToken(token = TOKEN) {
  return { headers: { authorization: `Bearer ${token}` } };
}

async function streamStatus(stream: AsyncIterable<unknown>): Promise<number> {
  return (await statusOf(stream)).code;
}

/** An HTTPS request to the web port with the test CA; headers as given (Host and Origin included). */
function request(
  pathname: string,
  options: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
    (resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: httpPort,
          path: pathname,
          method: options.method ?? 'GET',
          headers: options.headers,
          ca: caPem,
          servername: 'localhost',
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    },
  );
}

function grpcWebFrame(typeName: string, message: object): Uint8Array {
  const t = type(typeName);
  const payload = t.encode(t.fromObject(message)).finish();
  const frame = new Uint8Array(5 + payload.length);
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, 5);
  return frame;
}

beforeAll(async () => {
  ca = await makeTestCa();
  caPem = await readFile(ca.caCert);
  const tokenFile = path.join(ca.dir, 'tokens.txt');
  await writeFile(tokenFile, `# serving tokens\n${TOKEN}\nsecond-token-abcdef\n`);
  const { security } = await resolveServeSecurity({
    authTokenFile: tokenFile,
    tlsCert: ca.serverCert,
    tlsKey: ca.serverKey,
    corsOrigin: [PORTAL],
  });
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    httpPort: 0,
    device: 'cpu',
    security,
  });
  grpcPort = Number(app.grpcAddress.split(':').pop());
  httpPort = Number(new URL(app.httpUrl!).port);
  tlsClient = grpcJsClient(Glomseg, `localhost:${grpcPort}`, grpc.credentials.createSsl(caPem));
});

afterAll(async () => {
  tlsClient?.close();
  await app?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

describe('bearer tokens over gRPC (TLS, test CA, grpc-js client)', () => {
  it('refuses glomseg calls without a valid token with UNAUTHENTICATED and answers with one', async () => {
    expect((await statusOf(tlsClient.listSlides({}))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await statusOf(tlsClient.listSlides({}, withToken('wrong-token')))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await statusOf(tlsClient.getSlideInfo({ slideId: 'kidney-region.tif' }))).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    expect(
      await streamStatus(tlsClient.streamTiles({ slideId: 'kidney-region.tif', tiles: [{ col: 0, row: 0 }] })),
    ).toBe(grpc.status.UNAUTHENTICATED);
    expect(await streamStatus(tlsClient.scoreSlide({ slideId: 'kidney-region.tif' }))).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    const ok = await tlsClient.listSlides({}, withToken());
    expect(ok.slides.map((s) => s.id)).toContain('kidney-region.tif');
    expect((await statusOf(tlsClient.listSlides({}, withToken('second-token-abcdef')))).code).toBe(grpc.status.OK);
  });

  it('refuses reflection without a token, and keeps health open for probes', async () => {
    const reflectionDef = protoLoader.loadSync(
      path.join(REPO_ROOT, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto'),
      { keepCase: true },
    );
    const Reflection = (grpc.loadPackageDefinition(reflectionDef) as any).grpc.reflection.v1alpha.ServerReflection;
    const reflection = new Reflection(`localhost:${grpcPort}`, grpc.credentials.createSsl(caPem));
    const code = await new Promise<number>((resolve) => {
      const stream = reflection.ServerReflectionInfo();
      stream.on('data', () => resolve(grpc.status.OK));
      stream.on('error', (error: grpc.ServiceError) => resolve(error.code));
      stream.write({ list_services: '' });
    });
    reflection.close();
    expect(code).toBe(grpc.status.UNAUTHENTICATED);

    const health = grpcJsClient(Health, `localhost:${grpcPort}`, grpc.credentials.createSsl(caPem));
    const answer = await health.check({ service: 'glomseg.v1.Glomseg' });
    health.close();
    expect(answer.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it('does not talk plaintext on the TLS port', async () => {
    const plain = grpcJsClient(Glomseg, `127.0.0.1:${grpcPort}`);
    const answer = await statusOf(plain.listSlides({}, withToken()));
    plain.close();
    expect(answer.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('accepts buf curl with the test CA, over gRPC and over gRPC-Web', async () => {
    const buf = path.join(REPO_ROOT, 'node_modules/.bin/buf');
    const common = [
      'curl',
      '--cacert',
      ca.caCert,
      '--schema',
      path.join(REPO_ROOT, 'proto'),
      '-H',
      `Authorization: Bearer ${TOKEN}`,
      '-d',
      '{}',
    ];
    const overGrpc = await run(
      buf,
      [...common, '--protocol', 'grpc', `https://127.0.0.1:${grpcPort}/glomseg.v1.Glomseg/ListSlides`],
      { cwd: REPO_ROOT },
    );
    expect(JSON.parse(overGrpc.stdout).slides.map((s: { id: string }) => s.id)).toContain('kidney-region.tif');
    const overWeb = await run(
      buf,
      [...common, '--protocol', 'grpcweb', `https://127.0.0.1:${httpPort}/glomseg.v1.Glomseg/ListSlides`],
      { cwd: REPO_ROOT },
    );
    expect(JSON.parse(overWeb.stdout).slides.map((s: { id: string }) => s.id)).toContain('kidney-region.tif');
    const refused = await run(
      buf,
      [
        ...common.slice(0, 5),
        '-d',
        '{}',
        '--protocol',
        'grpc',
        `https://127.0.0.1:${grpcPort}/glomseg.v1.Glomseg/ListSlides`,
      ],
      { cwd: REPO_ROOT },
    ).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(refused).toMatch(/unauthenticated/i);
  });
});

describe('bearer tokens on the HTTP routes (HTTPS, test CA)', () => {
  const tile = `/api/slides/${encodeURIComponent('kidney-region.tif')}/tiles/2/0/0`;

  it('answers slide tiles and demo annotations with 401 without a token, and serves tiles with one', async () => {
    const without = await request(tile);
    expect(without.status).toBe(401);
    expect(without.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse(without.body.toString()).error.code).toBe('UNAUTHENTICATED');
    expect((await request('/api/demo/annotations')).status).toBe(401);
    expect((await request('/metrics')).status).toBe(401);
    expect((await request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await request(tile, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const withToken = await request(tile, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(withToken.status).toBe(200);
    expect(withToken.headers['content-type']).toBe('image/jpeg');
  });

  it('refuses gRPC-Web without a token with grpc-status 16 (UNAUTHENTICATED)', async () => {
    const body = grpcWebFrame('ListSlidesRequest', {});
    const headers = { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' };
    const without = await request('/glomseg.v1.Glomseg/ListSlides', { method: 'POST', headers, body });
    expect(without.status).toBe(401);
    expect(without.headers['grpc-status']).toBe('16');
    const withToken = await request('/glomseg.v1.Glomseg/ListSlides', {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${TOKEN}` },
      body,
    });
    expect(withToken.status).toBe(200);
    expect(withToken.body.byteLength).toBeGreaterThan(5);
  });

  it('serves the viewer page and plugin bundle without a token (they hold no slide data)', async () => {
    expect((await request('/')).status).toBe(200);
    expect((await request('/plugin/glomseg-plugin.js')).status).toBe(200);
  });
});

describe('CORS allowlist and Host check', () => {
  const tile = `/api/slides/${encodeURIComponent('kidney-region.tif')}/tiles/2/0/0`;

  it('grants no CORS to a foreign or opaque Origin, on requests and on preflight', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://portal.example.evil.example']) {
      const get = await request(tile, { headers: { origin, authorization: `Bearer ${TOKEN}` } });
      expect(get.headers['access-control-allow-origin'], origin).toBeUndefined();
      const preflight = await request('/glomseg.v1.Glomseg/StreamTiles', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(preflight.status, origin).toBe(403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('grants the listed origin by name (never *) and lets it send Authorization', async () => {
    const preflight = await request('/glomseg.v1.Glomseg/StreamTiles', {
      method: 'OPTIONS',
      headers: {
        origin: PORTAL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-grpc-web',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/)).toContain(
      'authorization',
    );
    expect(preflight.headers.vary).toMatch(/origin/i);
  });

  it('refuses a Host it does not answer to (DNS rebinding) and serves its own names', async () => {
    const rebound = await request(tile, {
      headers: { host: `attacker.example:${httpPort}`, authorization: `Bearer ${TOKEN}` },
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body.toString()).error.message).toContain('attacker.example');
    for (const host of [`localhost:${httpPort}`, `127.0.0.1:${httpPort}`]) {
      expect((await request(tile, { headers: { host, authorization: `Bearer ${TOKEN}` } })).status, host).toBe(200);
    }
  });
});

describe('mutual TLS', () => {
  it('refuses a client without a certificate from the client CA and serves one with it', async () => {
    const { security } = await resolveServeSecurity({
      tlsCert: ca.serverCert,
      tlsKey: ca.serverKey,
      tlsClientCa: ca.caCert,
    });
    const mtls = await GlomsegApp.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      httpPort: false,
      device: 'cpu',
      security,
    });
    const port = mtls.grpcAddress.split(':').pop();
    try {
      const anonymous = grpcJsClient(Glomseg, `localhost:${port}`, grpc.credentials.createSsl(caPem));
      expect((await statusOf(anonymous.listSlides({}))).code).toBe(grpc.status.UNAVAILABLE);
      anonymous.close();
      const [key, cert] = await Promise.all([readFile(ca.clientKey), readFile(ca.clientCert)]);
      const known = grpcJsClient(Glomseg, `localhost:${port}`, grpc.credentials.createSsl(caPem, key, cert));
      expect((await statusOf(known.listSlides({}))).code).toBe(grpc.status.OK);
      known.close();
    } finally {
      await mtls.close();
    }
  });
});

describe('exposure', () => {
  it('warns loudly when binding beyond loopback without a token or TLS, and not on loopback', () => {
    expect(exposureWarning(['127.0.0.1', 'localhost', '::1'], undefined)).toBeUndefined();
    expect(exposureWarning(['0.0.0.0'], undefined)).toMatch(
      /WARNING: listening on 0\.0\.0\.0 .*no --auth-token-file and no --tls-cert/,
    );
    expect(exposureWarning(['0.0.0.0'], { tokens: BearerTokens.fromList(['t']) })).toMatch(/clear text/);
  });

  it('logs the wildcard address it really listens on, with the warning', async () => {
    const lines: string[] = [];
    const open = await GlomsegApp.start({
      host: '0.0.0.0',
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      httpPort: 0,
      device: 'cpu',
      log: (m) => lines.push(m),
    });
    try {
      expect(lines.join('\n')).toMatch(/WARNING: listening on 0\.0\.0\.0/);
      expect(lines.join('\n')).toMatch(/listening on http:\/\/0\.0\.0\.0:\d+ \(every interface\)/);
      expect(open.grpcAddress).toMatch(/^0\.0\.0\.0:\d+$/);
    } finally {
      await open.close();
    }
  });
});

describe('bearer token comparison', () => {
  it('accepts only listed tokens, scheme case-insensitive, and nothing for an empty or malformed header', () => {
    const tokens = BearerTokens.fromList(['# comment', 'alpha-token', '  beta-token  ', '']);
    expect(tokens.accepts('Bearer alpha-token')).toBe(true);
    expect(tokens.accepts('bearer beta-token')).toBe(true);
    for (const bad of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Basic alpha-token',
      'Bearer alpha-token extra',
      'Bearer alpha-toke',
      'alpha-token',
      'Bearer # comment',
    ]) {
      expect(tokens.accepts(bad), String(bad)).toBe(false);
    }
    expect(() => BearerTokens.fromList(['', '# only a comment'])).toThrow(/empty/);
  });
});
