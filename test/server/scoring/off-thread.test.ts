/**
 * The serving thread only serves: while the real server parses and scores ground truth that costs seconds of
 * CPU, health checks from another client keep answering within a deadline that a blocked thread would miss
 * several times over; truths past the cost bounds are refused up front with RESOURCE_EXHAUSTED.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { AnnotationFormat, type ScoreSlideEvent } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { HealthCheckResponse_ServingStatus } from '@glomseg/api/gen/health/v1/health_pb.js';
import { statusName } from '@glomseg/api/error-codes.js';
import { ConnectError } from '@connectrpc/connect';
import { ScoringPool } from '../../../server/src/scoring/scoring-pool.js';
import { DEFAULT_LIMITS } from '../../../server/src/validation/limits.js';
import { collect, statusOf } from '../../helpers/grpc.js';
import { geoJsonOf, manySquares, starRing } from '../../../server/src/bench/hostile-inputs.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const SLIDE = 'kidney-region.tif';
const WIDTH = 6400;
const HEIGHT = 4800;
/** A blocked serving thread misses this: each heavy case below costs several seconds of CPU on one core. */
const HEALTH_DEADLINE_MS = 1500;

const served = useGrpcApp({ warm: true });

beforeAll(async () => {
  // Cache the model tiles first, so the scoring below is what runs during the probes.
  await collect(served.client.scoreSlide({ slideId: SLIDE }));
});

async function checkHealth(): Promise<string> {
  try {
    return HealthCheckResponse_ServingStatus[
      (await served.health.check({ service: 'glomseg.v1.Glomseg' }, { timeoutMs: HEALTH_DEADLINE_MS })).status
    ];
  } catch (error) {
    return statusName(ConnectError.from(error).code);
  }
}

/** The summary that ends a ScoreSlide stream. */
function summaryOf(events: ScoreSlideEvent[]) {
  const last = events.at(-1)?.event;
  if (last?.case !== 'result') throw new Error('the stream ended without its result');
  return last.value;
}

/** Runs `work` while probing health back to back; every probe must answer SERVING within the deadline. */
async function probedWhile<T>(work: Promise<T>): Promise<{ result: T; probes: string[] }> {
  let finished = false;
  const probes: string[] = [];
  const probing = (async () => {
    while (!finished) probes.push(await checkHealth());
  })();
  try {
    return { result: await work, probes };
  } finally {
    finished = true;
    await probing;
  }
}

describe('CPU-heavy scoring runs off the serving thread', () => {
  it('a 10,000-vertex star over the whole slide: Dice completes while every health probe answers in time', async () => {
    const star = geoJsonOf([starRing(9_999, WIDTH / 2, HEIGHT / 2, 500, 2300)]);
    const { result, probes } = await probedWhile(
      collect(
        served.client.scoreSlide({ slideId: SLIDE, annotations: { content: star, format: AnnotationFormat.GEOJSON } }),
      ),
    );
    const final = summaryOf(result);
    expect(final.metrics?.truthCount).toBe(1);
    expect(probes.length).toBeGreaterThan(3);
    expect(
      probes.every((p) => p === 'SERVING'),
      probes.join(','),
    ).toBe(true);
  });

  it('a full-mask RLE of the slide: decoded and scored while every health probe answers in time', async () => {
    const rle = `id,encoding\nkidney-region,1 ${WIDTH * HEIGHT}\n`;
    const { result, probes } = await probedWhile(
      collect(
        served.client.scoreSlide({ slideId: SLIDE, annotations: { content: rle, format: AnnotationFormat.RLE_CSV } }),
      ),
    );
    expect(summaryOf(result).metrics!.truthArea).toBe(WIDTH * HEIGHT);
    expect(probes.length).toBeGreaterThan(3);
    expect(
      probes.every((p) => p === 'SERVING'),
      probes.join(','),
    ).toBe(true);
  });
});

describe('truths past the cost bounds are refused up front', () => {
  it.each([
    [
      'an 80,000-vertex circle',
      () => geoJsonOf([starRing(80_000, 3200, 2400, 2000, 2000)]),
      /vertices; at most 10000 per polygon/,
    ],
    ['an 80,000-vertex star', () => geoJsonOf([starRing(80_000, 3200, 2400, 500, 2300)]), /per polygon/],
    ['285,000 small polygons', () => geoJsonOf(manySquares(285_000)), /polygons; at most/],
    [
      'one polygon of 2.5 million vertices',
      () => geoJsonOf([starRing(2_500_000, 3200, 2400, 1000, 2000, true)]),
      /per polygon/,
    ],
  ])('%s: RESOURCE_EXHAUSTED before any inference, health still answering', async (_name, make, message) => {
    const content = make();
    const before = served.app.service.stats().tilesComputed;
    const { result, probes } = await probedWhile(
      statusOf(
        collect(
          served.client.scoreSlide({
            slideId: SLIDE,
            mppOverride: 0.25,
            annotations: { content, format: AnnotationFormat.GEOJSON },
          }),
        ),
      ),
    );
    expect(result.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(result.details).toMatch(message);
    // mpp 0.25 is a grid nothing is cached for: no tile ran, the refusal came first.
    expect(served.app.service.stats().tilesComputed).toBe(before);
    expect(
      probes.every((p) => p === 'SERVING'),
      probes.join(','),
    ).toBe(true);
  });
});

describe('ScoringPool', () => {
  const truth = (content: string) => ({
    content,
    format: 'geojson' as const,
    width: WIDTH,
    height: HEIGHT,
    budget: DEFAULT_LIMITS,
  });
  const star = geoJsonOf([starRing(9_999, WIDTH / 2, HEIGHT / 2, 500, 2300)]);
  const region = { x: 0, y: 0, width: WIDTH, height: HEIGHT };
  const tile = { tileWidth: 1600, tileHeight: 1200 };

  it('stops a task past its CPU budget with DEADLINE_EXCEEDED, and one whose caller cancels with CANCELLED', async () => {
    const pool = await ScoringPool.create({ maxTaskMs: 200 });
    try {
      await expect(pool.scoreDice(truth(star), [], region, tile, new AbortController().signal)).rejects.toMatchObject({
        code: 'DEADLINE_EXCEEDED',
      });
      const controller = new AbortController();
      const scoring = pool.scoreDice(truth(star), [], region, tile, controller.signal);
      setImmediate(() => controller.abort());
      await expect(scoring).rejects.toMatchObject({ code: 'CANCELLED' });
      // The pool still works after its worker was stopped.
      expect(await pool.checkAnnotations(truth(geoJsonOf(manySquares(3))), new AbortController().signal)).toEqual({
        polygons: 3,
        vertices: 12,
        warnings: [],
      });
    } finally {
      await pool.close();
    }
  });

  it('returns coded errors from the worker as they were thrown there', async () => {
    const pool = await ScoringPool.create({ maxTaskMs: 10_000 });
    try {
      await expect(
        pool.checkAnnotations(truth('{"type": "FeatureCollection"'), new AbortController().signal),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await pool.close();
    }
  });
});
