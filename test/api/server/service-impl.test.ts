/**
 * One request rule on every way into the service: the domain service in process, gRPC (grpc-js serving the api's
 * ServiceImpl on a loopback socket) and gRPC-Web (connect's router serving the same ServiceImpl) give each
 * threshold the same answer, status, words and polygons. The service runs on fake ports (a painted slide whose
 * discs read 0.9 in their core and 0.6 out to their rim), so the threshold a cut used shows in its polygons.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { tileOutcomesFromProto } from '@glomseg/api/client/from-proto.js';
import { toConnectError } from '@glomseg/api/error-codes.js';
import type { TileOutcome } from '@glomseg/shared/glomseg-service.js';
import { checkStreamTiles } from '@glomseg/api/server/request-checks.js';
import { GrpcServer } from '../../../server/src/grpc/grpc-server.js';
import { WebServer } from '../../../server/src/web/web-server.js';
import { createGlomsegService, type DomainGlomsegService } from '../../../server/src/service/glomseg-service.js';
import { FakeModels, FakeScorer, FakeSegmenter, FakeSlides, paintedSlide } from '../../helpers/fake-ports.js';
import { glomsegClient, type GlomsegTestClient } from '../../helpers/grpc.js';

const SLIDE = 'painted.tif';
const TILES = [{ col: 0, row: 0 }];
/** The card's threshold is 0.5 (fakeCard): unset cuts the whole disc (r 24), 0.75 its core (r 12). */
const DISC = { x: 64, y: 64, r: 24 };

let service: DomainGlomsegService;
let grpcServer: GrpcServer;
let webServer: WebServer;
let staticRoot: string;
let grpcClient: GlomsegTestClient;
let webClient: Client<typeof Glomseg>;

beforeAll(async () => {
  service = createGlomsegService({
    slides: new FakeSlides([paintedSlide({ id: SLIDE, discs: [DISC] })]),
    models: new FakeModels([new FakeSegmenter()]),
    scoring: new FakeScorer(),
  });
  staticRoot = await mkdtemp(path.join(os.tmpdir(), 'glomseg-static-'));
  [grpcServer, webServer] = await Promise.all([
    GrpcServer.start({ service, port: 0 }),
    WebServer.start({ service, port: 0, staticRoot }),
  ]);
  grpcClient = glomsegClient(grpcServer.address);
  webClient = createClient(Glomseg, createGrpcWebTransport({ baseUrl: webServer.url }));
});

afterAll(async () => {
  grpcClient?.close();
  await Promise.all([grpcServer?.close(), webServer?.close()]);
  await service?.close();
  await rm(staticRoot, { recursive: true, force: true });
});

/** What a way in answers: its status (as a gRPC code name), its words, and the areas of the polygons it cut. */
type Answer = { code: string; message: string; areas: number[] };

async function answerOf(outcomes: () => AsyncIterable<TileOutcome>): Promise<Answer> {
  try {
    const areas: number[] = [];
    for await (const outcome of outcomes()) areas.push(...outcome.polygons.map((p) => Math.round(p.area)));
    return { code: 'OK', message: '', areas };
  } catch (error) {
    // In process, the error the protocol edge would send.
    const e = error instanceof ConnectError ? error : toConnectError(error);
    return { code: Code[e.code], message: e.rawMessage, areas: [] };
  }
}

const inProcess = (threshold?: number) =>
  answerOf(() =>
    service.streamTiles(checkStreamTiles({ slideId: SLIDE, tiles: TILES, threshold }), new AbortController().signal),
  );
const overGrpc = (threshold?: number) =>
  answerOf(() => tileOutcomesFromProto(grpcClient.streamTiles({ slideId: SLIDE, tiles: TILES, threshold })));
const overGrpcWeb = (threshold?: number) =>
  answerOf(() => tileOutcomesFromProto(webClient.streamTiles({ slideId: SLIDE, tiles: TILES, threshold })));

describe('the threshold, in process, over gRPC and over gRPC-Web', () => {
  it.each([
    ['unset (the card default)', undefined, 'OK'],
    ['0.75', 0.75, 'OK'],
    ['0.001, the lowest', 0.001, 'OK'],
    ['0.999, the highest (a float on the wire: 0.99900001)', 0.999, 'OK'],
    ['0 (not "the default": unset is)', 0, 'InvalidArgument'],
    ['0.0005', 0.0005, 'InvalidArgument'],
    ['1', 1, 'InvalidArgument'],
    ['1.5', 1.5, 'InvalidArgument'],
    ['NaN', Number.NaN, 'InvalidArgument'],
    ['-0.2', -0.2, 'InvalidArgument'],
  ])('%s gets the same answer every way', async (_name, threshold, code) => {
    const [local, grpc, web] = [await inProcess(threshold), await overGrpc(threshold), await overGrpcWeb(threshold)];
    expect(grpc).toEqual(local);
    expect(web).toEqual(local);
    expect(local.code).toBe(code);
    if (code !== 'OK') expect(local.message).toMatch(/^threshold /);
  });

  it('unset cuts at the card threshold, and a threshold given is the one cut at', async () => {
    const [whole] = (await inProcess(undefined)).areas;
    const [core] = (await inProcess(0.75)).areas;
    expect(whole / (Math.PI * DISC.r ** 2)).toBeCloseTo(1, 1);
    expect(core / (Math.PI * (DISC.r / 2) ** 2)).toBeCloseTo(1, 1);
    expect((await inProcess(0.5)).areas).toEqual([whole]);
  });
});
