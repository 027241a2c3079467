/**
 * `serve --health-port`: a real server with TLS and tokens on its gRPC port also answers grpc.health.v1 in
 * plaintext on the health port (what Kubernetes' gRPC probes need: they speak no TLS), serves nothing else there,
 * and shares the drain's statuses: on SIGTERM '' turns NOT_SERVING while 'liveness' stays SERVING to the end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Code } from '@connectrpc/connect';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { HealthCheckResponse_ServingStatus as Status } from '@glomseg/api/gen/health/v1/health_pb.js';
import { ServerProcess } from '../../../server/src/bench/server-process.js';
import { LIVENESS_SERVICE } from '../../../server/src/grpc/grpc-server.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { glomsegClient, healthClient, statusOf } from '../../helpers/grpc.js';
import { makeTestCa } from '../../helpers/test-ca.js';
import { until } from '../../helpers/until.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('serve --health-port', () => {
  it('answers health in plaintext beside a TLS port, serves nothing else there, and follows the drain', async () => {
    const ca = await makeTestCa();
    const tokenFile = path.join(ca.dir, 'tokens');
    await writeFile(tokenFile, 'health-port-test-token\n');
    server = await ServerProcess.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      device: 'cpu',
      workers: 1,
      args: [
        '--health-port',
        '0',
        '--tls-cert',
        ca.serverCert,
        '--tls-key',
        ca.serverKey,
        '--auth-token-file',
        tokenFile,
      ],
    });
    const healthAddress = /health checks \(grpc\.health\.v1 only, plaintext\) on (\S+)/.exec(
      server.startupLog.join('\n'),
    )?.[1];
    expect(healthAddress, server.startupLog.join('\n')).toBeDefined();

    const health = healthClient(healthAddress!);
    for (const service of ['', Glomseg.typeName, LIVENESS_SERVICE])
      expect((await health.check({ service })).status).toBe(Status.SERVING);
    // Only health: the glomseg service is not there, token or not.
    const other = glomsegClient(healthAddress!, { headers: { authorization: 'Bearer health-port-test-token' } });
    expect((await statusOf(other.listSlides({}))).code).toBe(Code.Unimplemented);
    // The main port speaks TLS only: a plaintext probe there fails, which is why the health port exists.
    const plainMain = healthClient(server.address);
    expect((await statusOf(plainMain.check({ service: '' }))).code).not.toBe(0);

    const seen: Record<string, Status[]> = { '': [], [LIVENESS_SERVICE]: [] };
    const watches = Object.keys(seen).map((service) =>
      statusOf(
        (async function* () {
          for await (const update of health.watch({ service })) yield seen[service].push(update.status);
        })(),
      ),
    );
    await until(() => seen[''].length > 0 && seen[LIVENESS_SERVICE].length > 0);
    server.child.kill('SIGTERM');
    await until(() => seen[''].includes(Status.NOT_SERVING), 30_000);
    expect(await server.exited).toBe(0);
    await Promise.all(watches);
    expect(seen['']).toEqual([Status.SERVING, Status.NOT_SERVING]);
    expect(seen[LIVENESS_SERVICE]).toEqual([Status.SERVING]);
    for (const client of [health, other, plainMain]) client.close();
  }, 120_000);
});
