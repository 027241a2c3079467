/**
 * A whole slide's result through clients that keep gRPC's usual 4 MiB receive limit: the domain service with fake
 * ports (a painted slide, a model that traces what it sees) behind the real gRPC server on a loopback socket,
 * scored by a reflection-only Python grpcio client with its defaults and by the project's own typed client held
 * to 4 MiB. 43,264 glomeruli are nearly twice what one 4 MiB message holds.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import type { ScoreResult } from '@glomseg/shared/glomseg-service.js';
import { GrpcServer } from '../../../server/src/grpc/grpc-server.js';
import { GrpcJsTransport } from '../../../server/src/client/grpc-js-transport.js';
import { createGlomsegService, type DomainGlomsegService } from '../../../server/src/service/glomseg-service.js';
import {
  DISC_CORE,
  FakeModels,
  FakeScorer,
  FakeSegmenter,
  FakeSlides,
  paintedSlide,
} from '../../helpers/fake-ports.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const run = promisify(execFile);
const PYTHON_CLIENT = path.join(REPO_ROOT, 'test', 'server', 'grpc', 'reflection_client.py');
const FOUR_MIB = 4 * 1024 * 1024;
const ONE_MIB = 1024 * 1024;

// A lattice of discs, 16 px apart, radius 5, none across a 128-px tile border: 208 x 208 = 43,264 on 3328 x 3328 pixels.
const PERIOD = 16;
const SIDE = 3328;
const GLOMERULI = (SIDE / PERIOD) ** 2;
function lattice(x: number, y: number): number {
  const dx = (x % PERIOD) + 0.5 - PERIOD / 2;
  const dy = (y % PERIOD) + 0.5 - PERIOD / 2;
  return dx * dx + dy * dy <= 25 ? DISC_CORE : 0;
}

let service: DomainGlomsegService;
let server: GrpcServer;
beforeAll(async () => {
  const slide = paintedSlide({ id: 'crowded.tif', width: SIDE, height: SIDE, probability: lattice });
  service = createGlomsegService({
    slides: new FakeSlides([slide]),
    models: new FakeModels([new FakeSegmenter()]),
    scoring: new FakeScorer(),
  });
  server = await GrpcServer.start({ service });
});
afterAll(async () => {
  await server?.close();
  await service?.close();
});

describe('ScoreSlide with tens of thousands of glomeruli', () => {
  it('reaches a default Python grpcio client whole, in batches well under 1 MiB', async () => {
    const calls = [{ method: 'ScoreSlide', request: { slide_id: 'crowded.tif' }, summary: true }];
    const { stdout } = await run(
      '/usr/bin/python3',
      [PYTHON_CLIENT, server.address, 'glomseg.v1.Glomseg', JSON.stringify(calls)],
      { timeout: 300_000, maxBuffer: 16 * ONE_MIB },
    );
    const summary = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .find((line) => line.method === 'ScoreSlide');
    expect(summary.polygons).toBe(GLOMERULI);
    expect(summary.last.result.polygon_count).toBe(GLOMERULI);
    expect(summary.maxBytes).toBeLessThan(ONE_MIB / 2);
    // As one message, as before, this result would not have fitted the client's limit.
    expect(summary.totalBytes).toBeGreaterThan(FOUR_MIB);
  }, 300_000);

  it('reaches the typed client held to 4 MiB, gathered into one result in order', async () => {
    const transport = new GrpcJsTransport(server.address, {
      channelOptions: { 'grpc.max_receive_message_length': FOUR_MIB },
    });
    try {
      let result: ScoreResult | undefined;
      for await (const event of scoreEventsFromProto(
        createClient(Glomseg, transport).scoreSlide({ slideId: 'crowded.tif' }),
      )) {
        if (event.kind === 'result') result = event.result;
      }
      expect(result!.polygons).toHaveLength(GLOMERULI);
      // Each disc once: no polygon lost or repeated between batches.
      const centres = new Set(
        result!.polygons.map((p) => {
          const xs = p.exterior.map(([x]) => x);
          const ys = p.exterior.map(([, y]) => y);
          return `${Math.floor((Math.min(...xs) + Math.max(...xs)) / 2 / PERIOD)},${Math.floor((Math.min(...ys) + Math.max(...ys)) / 2 / PERIOD)}`;
        }),
      );
      expect(centres.size).toBe(GLOMERULI);
    } finally {
      transport.close();
    }
  }, 300_000);
});
