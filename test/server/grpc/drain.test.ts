/**
 * Draining on SIGTERM, with a real `glomseg serve` process: health checks answer NOT_SERVING, new calls are refused
 * with UNAVAILABLE (clients retry elsewhere), a stream in progress finishes within the grace period, or ends with
 * UNAVAILABLE when the grace period runs out; then the process exits 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { Glomseg, type ScoreSlideEvent } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { HealthCheckResponse_ServingStatus } from '@glomseg/api/gen/health/v1/health_pb.js';
import { ServerProcess } from '../../../server/src/bench/server-process.js';
import { LIVENESS_SERVICE } from '../../../server/src/grpc/grpc-server.js';
import { checkHealth } from '../../../server/src/cli/health-command.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { glomsegClient, healthClient, statusOf } from '../../helpers/grpc.js';
import { until } from '../../helpers/until.js';

const SERVICE_NAME = Glomseg.typeName;

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A ScoreSlide stream of the whole region (35 model tiles), its first progress awaited. */
async function startScoring(address: string) {
  const client = glomsegClient(address);
  const messages: ScoreSlideEvent[] = [];
  const ended = statusOf(
    (async function* () {
      for await (const message of client.scoreSlide({ slideId: 'kidney-region.tif' })) yield messages.push(message);
    })(),
  );
  await until(() => messages.length > 0, 60_000);
  return { client, messages, ended };
}

describe('draining on SIGTERM', () => {
  it('reports NOT_SERVING, refuses new calls with UNAVAILABLE and lets the running stream finish', async () => {
    server = await ServerProcess.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      device: 'cpu',
      workers: 1,
      args: ['--shutdown-grace', '120'],
    });
    const { client, messages, ended } = await startScoring(server.address);
    const health = healthClient(server.address);
    expect((await health.check({ service: SERVICE_NAME })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    server.child.kill('SIGTERM');
    // Polled: the signal reaches the server at some point after kill() returns.
    const deadline = Date.now() + 30_000;
    while ((await health.check({ service: SERVICE_NAME })).status !== HealthCheckResponse_ServingStatus.NOT_SERVING) {
      if (Date.now() > deadline) throw new Error('the server never reported NOT_SERVING');
    }
    // What the probes see while draining: not ready, still alive (the CLI's health check, as the container runs it).
    expect(await checkHealth(server.address, '', 5000)).toBe('NOT_SERVING');
    expect(await checkHealth(server.address, LIVENESS_SERVICE, 5000)).toBe('SERVING');
    const refused = await statusOf(client.getSlideInfo({ slideId: 'kidney-region.tif' }));
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
    expect(refused.details).toMatch(/shutting down; retry on another server/);
    const refusedStream = await statusOf(client.scoreSlide({ slideId: 'kidney-region.tif' }));
    expect(refusedStream.code).toBe(grpc.status.UNAVAILABLE);

    expect(await ended).toEqual({ code: grpc.status.OK, details: '' });
    const summary = messages.at(-1)!.event;
    expect(summary.case === 'result' && summary.value.polygonCount).toBeGreaterThan(10);
    expect(await server.exited).toBe(0);
    health.close();
    client.close();
  }, 180_000);

  it('ends a stream that outlasts the grace period with UNAVAILABLE, then exits', async () => {
    server = await ServerProcess.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      device: 'cpu',
      workers: 1,
      args: ['--shutdown-grace', '0.2'],
    });
    const { client, ended } = await startScoring(server.address);
    server.child.kill('SIGTERM');
    const end = await ended;
    expect(end.code).toBe(grpc.status.UNAVAILABLE);
    expect(end.details).toMatch(/did not finish within the grace period/);
    expect(await server.exited).toBe(0);
    client.close();
  }, 180_000);
});
