/**
 * The domain service on fake ports (test/helpers/fake-ports.ts): streaming, caching, cancellation, errors and
 * background skipping, with no ONNX, files or sockets. The painted slide holds discs at known places; the fake
 * segmenter traces what it reads, so every polygon checked here went through the service's own read windows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import type { TileAddress } from '@glomseg/shared/tile-grid.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { createGlomsegService, type DomainGlomsegService, type ServiceOptions } from '../../../server/src/service/glomseg-service.js';
import type { ScoreEvent, ScoreProgress, ScoreResult, StreamTilesParams, TileOutcome } from '@glomseg/shared/glomseg-service.js';
import { asGlomsegError } from '@glomseg/api/error-codes.js';
import { fakeCard, FakeModels, FakeScorer, FakeSegmenter, FakeSlides, GLASS, paintedSlide, tissueColour, type Disc, type PaintedSlideOptions } from '../../helpers/fake-ports.js';
import { until } from '../../helpers/until.js';

const SLIDE = 'painted.tif';
/** 512 x 512 at 128-pixel tiles: a 4 x 4 grid. */
const A: Disc = { x: 64, y: 64, r: 24 }; // inside tile (0, 0)
const B: Disc = { x: 256, y: 192, r: 30 }; // across the border of tiles (1, 1) and (2, 1)
const C: Disc = { x: 448, y: 448, r: 20 }; // inside tile (3, 3)
const D: Disc = { x: 128, y: 384, r: 24 }; // on the corner of four tiles
const DISCS = [A, B, C, D];
const ROW0: TileAddress[] = [0, 1, 2, 3].map((col) => ({ col, row: 0 }));

const services: DomainGlomsegService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

function setup(options: { slide?: PaintedSlideOptions; service?: Partial<ServiceOptions>; card?: Partial<ModelCard> } = {}) {
  const slide = paintedSlide({ id: SLIDE, discs: DISCS, ...options.slide });
  const segmenter = new FakeSegmenter(options.card ? fakeCard(options.card) : undefined);
  const scorer = new FakeScorer();
  const slides = new FakeSlides([slide]);
  const service = createGlomsegService({ slides, models: new FakeModels([segmenter]), scoring: scorer, ...options.service });
  services.push(service);
  return { service, segmenter, scorer, slide, slides };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

function streamSorted(service: DomainGlomsegService, params: Partial<StreamTilesParams> & { tiles: TileAddress[] }): Promise<TileOutcome[]> {
  return collect(service.streamTiles({ slideId: SLIDE, ...params }, new AbortController().signal)).then((all) => all.sort((a, b) => a.requestIndex - b.requestIndex));
}

/** What a stream failed with; fails the test when it does not fail. */
async function failureOf(stream: AsyncIterable<unknown>): Promise<unknown> {
  try {
    await collect(stream);
  } catch (error) {
    return error;
  }
  throw new Error('expected the stream to fail');
}

/** A polygon is this disc: same box to a pixel (pixel-edge tracing, simplified), area within 4% of pi r^2. */
function expectDisc(polygon: GlomerulusPolygon, disc: Disc, r = disc.r): void {
  const box = polygonBBox(polygon);
  expect(Math.abs(box.x - (disc.x - r))).toBeLessThanOrEqual(1);
  expect(Math.abs(box.y - (disc.y - r))).toBeLessThanOrEqual(1);
  expect(Math.abs(box.width - 2 * r)).toBeLessThanOrEqual(1.5);
  expect(Math.abs(box.height - 2 * r)).toBeLessThanOrEqual(1.5);
  expect(polygon.area / (Math.PI * r * r)).toBeGreaterThan(0.96);
  expect(polygon.area / (Math.PI * r * r)).toBeLessThan(1.04);
}

function byCentre(polygons: GlomerulusPolygon[], disc: Disc): GlomerulusPolygon {
  const distance = (p: GlomerulusPolygon) => {
    const b = polygonBBox(p);
    return Math.hypot(b.x + b.width / 2 - disc.x, b.y + b.height / 2 - disc.y);
  };
  return [...polygons].sort((a, b) => distance(a) - distance(b))[0];
}

function progressOf(events: ScoreEvent[]): ScoreProgress[] {
  return events.flatMap((e) => (e.kind === 'progress' ? [e.progress] : []));
}

function resultOf(events: ScoreEvent[]): ScoreResult {
  const last = events[events.length - 1];
  if (last.kind !== 'result') throw new Error(`the last event is ${last.kind}, not the result`);
  return last.result;
}

describe('streaming', () => {
  it('StreamTiles yields one outcome per distinct tile, with its request index, bounds and the pieces of the discs it holds', async () => {
    const { service, segmenter } = setup();
    const tiles = [{ col: 0, row: 0 }, { col: 1, row: 1 }, { col: 2, row: 1 }, { col: 1, row: 1 }, { col: 3, row: 0 }];
    const outcomes = await streamSorted(service, { tiles });

    // The repeated (1, 1) is answered once, under its first index; the model ran once per distinct tile.
    expect(outcomes.map((o) => [o.tile, o.requestIndex])).toEqual([
      [tiles[0], 0],
      [tiles[1], 1],
      [tiles[2], 2],
      [tiles[4], 4],
    ]);
    expect(segmenter.origins().sort()).toEqual(['0,0', '128,128', '256,128', '384,0']);
    expect(outcomes.map((o) => o.bounds)).toEqual([
      { x: 0, y: 0, width: 128, height: 128 },
      { x: 128, y: 128, width: 128, height: 128 },
      { x: 256, y: 128, width: 128, height: 128 },
      { x: 384, y: 0, width: 128, height: 128 },
    ]);
    expect(outcomes.every((o) => !o.cached && !o.skipped && o.grid.cols === 4 && o.grid.rows === 4)).toBe(true);
    // The model saw each tile with its margin, padded to the size multiple: 128 + 16 on the inner side(s), to 160.
    expect(segmenter.calls.every((c) => c.image.width === 160 && c.image.height === 160)).toBe(true);

    const [whole, left, right, empty] = outcomes;
    expect(whole.polygons).toHaveLength(1);
    expectDisc(whole.polygons[0], A);
    expect(whole.polygons[0].touches).toEqual([]);
    expect(whole.polygons[0].meanProbability).toBeGreaterThan(0.6);
    // B is cut at x = 256: its left piece touches the right edge of (1, 1), its right piece the left edge of (2, 1).
    expect(left.polygons.map((p) => p.touches)).toEqual([['right']]);
    expect(right.polygons.map((p) => p.touches)).toEqual([['left']]);
    expect(polygonBBox(left.polygons[0])).toMatchObject({ x: expect.closeTo(226, 0), width: expect.closeTo(30, 0) });
    expect(polygonBBox(right.polygons[0])).toMatchObject({ x: 256, width: expect.closeTo(30, 0) });
    expect(empty.polygons).toEqual([]);
  });

  it('StreamTiles yields each tile as soon as it is done, not when the whole request is', async () => {
    const { service, segmenter } = setup({ service: { concurrency: 2 } });
    segmenter.hold();
    const stream = service.streamTiles({ slideId: SLIDE, tiles: [{ col: 0, row: 0 }, { col: 1, row: 0 }] }, new AbortController().signal)[Symbol.asyncIterator]();
    const first = stream.next();
    const [slow, fast] = [await segmenter.started(1), await segmenter.started(2)];
    fast.release();
    expect((await first).value).toMatchObject({ tile: { col: 1, row: 0 }, requestIndex: 1 });
    expect(slow.state).toBe('running');
    slow.release();
    expect((await stream.next()).value).toMatchObject({ tile: { col: 0, row: 0 }, requestIndex: 0 });
    expect((await stream.next()).done).toBe(true);
  });

  it('ScoreSlide yields progress, then one result whose polygons are the discs, each whole across tile borders', async () => {
    const { service, segmenter } = setup();
    const events = await collect(service.scoreSlide({ slideId: SLIDE }, new AbortController().signal));

    expect(events.slice(0, -1).every((e) => e.kind === 'progress')).toBe(true);
    const progress = progressOf(events);
    expect(progress[0]).toMatchObject({ tilesDone: 0, tilesTotal: 16, tilesSkipped: 0 });
    expect(progress[progress.length - 1]).toMatchObject({ tilesDone: 16, tilesTotal: 16, tilesSkipped: 0, etaMs: 0 });
    expect(progress.map((p) => p.tilesDone)).toEqual([...progress.map((p) => p.tilesDone)].sort((a, b) => a - b));
    expect(segmenter.calls).toHaveLength(16);

    const result = resultOf(events);
    expect(result).toMatchObject({ slideId: SLIDE, modelId: 'fake-unet', region: { x: 0, y: 0, width: 512, height: 512 } });
    expect(result.metrics).toBeUndefined();
    // Four glomeruli, not the seven pieces the tiles hold (B in two, D in four).
    expect(result.polygons).toHaveLength(4);
    for (const disc of DISCS) expectDisc(byCentre(result.polygons, disc), disc);
    expect(result.polygons.every((p) => p.touches.length === 0 && p.holes.length === 0)).toBe(true);
  });

  it('ScoreSlide of a region keeps only the glomeruli that reach into it', async () => {
    const { service } = setup();
    const events = await collect(service.scoreSlide({ slideId: SLIDE, region: { x: 0, y: 0, width: 250, height: 250 } }, new AbortController().signal));
    const result = resultOf(events);
    expect(progressOf(events)[0].tilesTotal).toBe(4);
    expect(result.polygons).toHaveLength(2);
    expectDisc(byCentre(result.polygons, A), A);
    // B reaches in from (1, 1); the region reads only that tile, so B comes back as its piece there (x 226 to 256).
    expect(polygonBBox(byCentre(result.polygons, B))).toMatchObject({ x: expect.closeTo(226, 0), width: expect.closeTo(30, 0) });
  });

  it('ScoreSlide checks the annotations before any inference and scores the merged polygons against them', async () => {
    const { service, segmenter, scorer } = setup();
    const annotations = { content: '{"type":"FeatureCollection","features":[]}', format: 'geojson' as const };
    const result = resultOf(await collect(service.scoreSlide({ slideId: SLIDE, annotations, diceTileWidth: 256, diceTileHeight: 256 }, new AbortController().signal)));
    expect(scorer.checks).toEqual([expect.objectContaining({ content: annotations.content, format: 'geojson', name: SLIDE, width: 512, height: 512 })]);
    expect(scorer.diceCalls).toHaveLength(1);
    expect(scorer.diceCalls[0].predicted).toBe(result.polygons);
    expect(scorer.diceCalls[0]).toMatchObject({ region: { x: 0, y: 0, width: 512, height: 512 }, tile: { tileWidth: 256, tileHeight: 256 } });
    expect(result.metrics).toEqual(scorer.metrics);
    expect(segmenter.calls).toHaveLength(16);

    // Bad ground truth fails the request before the model runs at all.
    const fresh = setup();
    fresh.scorer.checkFailure = new GlomsegError('INVALID_ARGUMENT', 'annotations: not a GeoJSON FeatureCollection');
    const error = await failureOf(fresh.service.scoreSlide({ slideId: SLIDE, annotations }, new AbortController().signal));
    expect(error).toBe(fresh.scorer.checkFailure);
    expect(fresh.segmenter.calls).toHaveLength(0);
  });
});

describe('caching', () => {
  it('serves a repeated StreamTiles from the cache without running the model', async () => {
    const { service, segmenter } = setup();
    const tiles = [{ col: 0, row: 0 }, { col: 1, row: 1 }, { col: 2, row: 1 }];
    const first = await streamSorted(service, { tiles });
    expect(segmenter.calls).toHaveLength(3);
    const again = await streamSorted(service, { tiles });

    expect(segmenter.calls).toHaveLength(3);
    expect(again.map((o) => o.cached)).toEqual([true, true, true]);
    expect(again.map((o) => o.polygons)).toEqual(first.map((o) => o.polygons));
    expect(again.map((o) => o.tissueFraction)).toEqual(first.map((o) => o.tissueFraction));
    expect(again.every((o) => Object.values(o.timings).every((ms) => ms === 0))).toBe(true);
    expect(service.stats()).toMatchObject({ tilesComputed: 3, tilesFromCache: 3, tilesRecut: 0, completedStreams: 2 });
  });

  it('answers cached tiles first, while the others are still with the model', async () => {
    const { service, segmenter } = setup();
    await streamSorted(service, { tiles: [{ col: 0, row: 0 }] });
    segmenter.hold();
    const stream = service.streamTiles({ slideId: SLIDE, tiles: [{ col: 1, row: 1 }, { col: 0, row: 0 }] }, new AbortController().signal)[Symbol.asyncIterator]();
    expect((await stream.next()).value).toMatchObject({ tile: { col: 0, row: 0 }, requestIndex: 1, cached: true });
    // Answered before the model even started on the other tile, which is submitted once the consumer pulls again.
    expect(segmenter.calls).toHaveLength(1);
    const next = stream.next();
    (await segmenter.started(2)).release();
    expect((await next).value).toMatchObject({ tile: { col: 1, row: 1 }, requestIndex: 0, cached: false });
  });

  it('re-cuts a new threshold from the kept probabilities, as the model would have cut it', async () => {
    const { service, segmenter } = setup();
    const tiles = [{ col: 0, row: 0 }, { col: 1, row: 1 }, { col: 2, row: 1 }];
    await streamSorted(service, { tiles });
    const recut = await streamSorted(service, { tiles, threshold: 0.75 });

    expect(segmenter.calls).toHaveLength(3);
    expect(recut.map((o) => o.cached)).toEqual([true, true, true]);
    expect(service.stats()).toMatchObject({ tilesComputed: 3, tilesRecut: 3 });
    // At 0.75 only the discs' cores (radius r / 2) are glomerulus.
    expectDisc(recut[0].polygons[0], A, A.r / 2);

    const fresh = setup();
    const computed = await streamSorted(fresh.service, { tiles, threshold: 0.75 });
    expect(fresh.segmenter.calls).toHaveLength(3);
    expect(recut.map((o) => o.polygons)).toEqual(computed.map((o) => o.polygons));

    // The re-cut is cached in turn: the same threshold again is a plain cache hit.
    await streamSorted(service, { tiles, threshold: 0.75 });
    expect(service.stats()).toMatchObject({ tilesRecut: 3, tilesFromCache: 3 });
  });

  it('keeps no probabilities for a whole-slide score: a batch pass would push out what viewers keep for re-cuts', async () => {
    // Room for one tile's probabilities (a fake tile's window is 160 x 160 floats, 100 KiB).
    const { service, segmenter } = setup({ service: { probabilityCacheBytes: 150 * 1024 } });
    const viewed = [{ col: 1, row: 1 }];
    await streamSorted(service, { tiles: viewed });
    await collect(service.scoreSlide({ slideId: SLIDE, threshold: 0.6 }, new AbortController().signal));
    const calls = segmenter.calls.length;
    expect(calls).toBe(16); // the viewed tile once, then the 15 others (the score re-cut the viewed one)
    // The viewer asked for its tile's probabilities back; the score asked for none (it would only drop them).
    expect(segmenter.calls.map((c) => c.wantsProbabilities)).toEqual([true, ...new Array(15).fill(false)]);
    const { tilesRecut } = service.stats();

    // The viewer's tile is still re-cut at a new threshold; a tile only the score ran goes back to the model.
    const recut = await streamSorted(service, { tiles: viewed, threshold: 0.75 });
    expect(recut[0].cached).toBe(true);
    expect(service.stats().tilesRecut).toBe(tilesRecut + 1);
    await streamSorted(service, { tiles: [{ col: 2, row: 1 }], threshold: 0.75 });
    expect(segmenter.calls.length).toBe(calls + 1);
    expect(service.stats().tilesRecut).toBe(tilesRecut + 1);
  });

  it('judges the minimum area on joined glomeruli: a small sliver across a tile border stays on, small blobs go', async () => {
    const across: Disc = { x: 124, y: 64, r: 20 }; // 4 px past tile (0, 0)'s right edge: a sliver of ~470 px^2 in (1, 0)
    const small: Disc = { x: 64, y: 200, r: 8 }; // 201 px^2, inside tile (0, 1)
    const smallAcross: Disc = { x: 256, y: 200, r: 10 }; // 314 px^2, halved by the border of tiles (1, 1) and (2, 1)
    const { service } = setup({ slide: { discs: [across, small, smallAcross] }, card: { minArea: 600 } });
    const result = resultOf(await collect(service.scoreSlide({ slideId: SLIDE }, new AbortController().signal)));
    expect(result.polygons).toHaveLength(1);
    expectDisc(result.polygons[0], across);
  });

  it("parts touching glomeruli between their cores when the card names a seed threshold, on fresh and re-cut tiles", async () => {
    // Two glomeruli inside tile (0, 0) whose probability falls towards the rim and stays at 0.85 where they touch.
    const pair = (x: number, y: number): number => {
      const d = Math.min(Math.hypot(x - 40, y - 64), Math.hypot(x - 88, y - 64)) / 26;
      return d < 1 ? 0.99 - 0.15 * d : 0.05;
    };
    const tiles = [{ col: 0, row: 0 }];
    const plain = setup({ slide: { probability: pair } });
    expect((await streamSorted(plain.service, { tiles, threshold: 0.8 }))[0].polygons).toHaveLength(1);

    const { service } = setup({ slide: { probability: pair }, card: { seedThreshold: 0.95, minArea: 50 } });
    const [fresh] = await streamSorted(service, { tiles, threshold: 0.8 });
    expect(fresh.cached).toBe(false);
    expect(fresh.polygons).toHaveLength(2);
    const recutAt = await streamSorted(service, { tiles, threshold: 0.82 });
    expect(recutAt[0].cached).toBe(true);
    expect(service.stats()).toMatchObject({ tilesRecut: 1 });
    expect(recutAt[0].polygons).toHaveLength(2);
    const result = resultOf(await collect(service.scoreSlide({ slideId: SLIDE, region: { x: 0, y: 0, width: 128, height: 128 }, threshold: 0.8 }, new AbortController().signal)));
    expect(result.polygons).toHaveLength(2);
  });

  it('drops blobs that never reach the seed threshold when the card requires a core, on fresh and re-cut tiles', async () => {
    // A confident glomerulus and a faint blob of the same size, apart, inside tile (0, 0).
    const probability = (x: number, y: number): number => {
      if (Math.hypot(x - 36, y - 64) < 24) return 0.99;
      return Math.hypot(x - 96, y - 64) < 24 ? 0.88 : 0.05;
    };
    const tiles = [{ col: 0, row: 0 }];
    const without = setup({ slide: { probability }, card: { seedThreshold: 0.95, minArea: 50 } });
    expect((await streamSorted(without.service, { tiles, threshold: 0.8 }))[0].polygons).toHaveLength(2);

    const { service } = setup({ slide: { probability }, card: { seedThreshold: 0.95, requireCore: true, minArea: 50 } });
    const [fresh] = await streamSorted(service, { tiles, threshold: 0.8 });
    expect(fresh.polygons).toHaveLength(1);
    expect(Math.min(...fresh.polygons[0].exterior.map(([x]) => x))).toBeLessThan(20); // the confident one
    const [recut] = await streamSorted(service, { tiles, threshold: 0.85 });
    expect(recut.cached).toBe(true);
    expect(recut.polygons).toHaveLength(1);
  });

  it('runs the model again for a new threshold when the segmenter keeps no probabilities', async () => {
    const { service, segmenter } = setup();
    segmenter.returnsKept = false;
    await streamSorted(service, { tiles: [{ col: 0, row: 0 }] });
    const [outcome] = await streamSorted(service, { tiles: [{ col: 0, row: 0 }], threshold: 0.75 });
    expect(segmenter.calls).toHaveLength(2);
    expect(outcome.cached).toBe(false);
    expectDisc(outcome.polygons[0], A, A.r / 2);
  });
});

describe('cancellation', () => {
  it('an abort mid-stream stops the tile with the model, drops the queued one, and rejects with CANCELLED', async () => {
    // One tile with the model at a time, two in flight per stream: the second runs while the third queues.
    const { service, segmenter } = setup({ service: { concurrency: 1, streamWindow: 2 } });
    segmenter.hold();
    const controller = new AbortController();
    const stream = service.streamTiles({ slideId: SLIDE, tiles: ROW0 }, controller.signal)[Symbol.asyncIterator]();
    const first = stream.next();
    (await segmenter.started(1)).release();
    expect((await first).value).toMatchObject({ tile: ROW0[0], cached: false });

    const second = stream.next();
    const running = await segmenter.started(2);
    expect(running.origin).toEqual({ x: 128, y: 0 });
    await until(() => service.stats().scheduler.queued === 1);
    controller.abort();

    const error = await second.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('CANCELLED');
    expect((error as GlomsegError).message).toMatch(/abort/i);
    segmenter.releaseAll();
    await until(() => service.stats().scheduler.running === 0);

    // Nothing more reached the model: the running tile was aborted, the queued one never started.
    expect(running.state).toBe('aborted');
    expect(running.signal?.aborted).toBe(true);
    expect(segmenter.origins()).toEqual(['0,0', '128,0']);
    expect(service.stats()).toMatchObject({
      activeStreams: 0,
      cancelledStreams: 1,
      tilesComputed: 1,
      scheduler: { queued: 0, running: 0, droppedQueued: 1, abortedRunning: 1 },
    });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('a consumer that stops pulling (client gone) abandons the tiles in flight and counts as a cancel', async () => {
    const { service, segmenter } = setup({ service: { concurrency: 2, streamWindow: 2 } });
    segmenter.hold();
    const seen: TileOutcome[] = [];
    const consumer = (async () => {
      for await (const outcome of service.streamTiles({ slideId: SLIDE, tiles: ROW0 }, new AbortController().signal)) {
        seen.push(outcome);
        break;
      }
    })();
    const [first, second] = [await segmenter.started(1), await segmenter.started(2)];
    first.release();
    await consumer;
    await until(() => service.stats().scheduler.running === 0);

    expect(seen.map((o) => o.tile)).toEqual([ROW0[0]]);
    expect(second.state).toBe('aborted');
    expect(segmenter.calls).toHaveLength(2);
    expect(service.stats()).toMatchObject({ activeStreams: 0, cancelledStreams: 1, completedStreams: 0 });
  });

  it('a tile two streams share goes on for the one that stays when the other cancels', async () => {
    const { service, segmenter } = setup({ service: { concurrency: 1 } });
    segmenter.hold();
    const tiles = [{ col: 0, row: 0 }];
    const leaving = new AbortController();
    const left = collect(service.streamTiles({ slideId: SLIDE, tiles }, leaving.signal));
    const stays = collect(service.streamTiles({ slideId: SLIDE, tiles }, new AbortController().signal));
    const call = await segmenter.started(1);
    await until(() => service.stats().scheduler.deduplicated === 1);
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: 'CANCELLED' });

    expect(call.signal?.aborted).toBe(false);
    call.release();
    const [outcome] = await stays;
    expect(outcome.cached).toBe(false);
    expectDisc(outcome.polygons[0], A);
    expect(segmenter.calls).toHaveLength(1);
  });

  it('a request cancelled before it starts does no work', async () => {
    const { service, segmenter, slide, slides } = setup();
    const controller = new AbortController();
    controller.abort();
    const error = await failureOf(service.scoreSlide({ slideId: SLIDE }, controller.signal));
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect(slides.opened).toEqual([]);
    expect(slide.reads).toEqual([]);
    expect(segmenter.calls).toHaveLength(0);
  });
});

describe('errors', () => {
  const cases: Array<{ what: string; params: Partial<StreamTilesParams>; code: string; message: string | RegExp }> = [
    { what: 'an unknown slide', params: { slideId: 'missing.svs' }, code: 'NOT_FOUND', message: "no slide 'missing.svs' in the configured slide folders" },
    { what: 'an unknown model', params: { modelId: 'no-such-model' }, code: 'NOT_FOUND', message: "no model 'no-such-model'; available: fake-unet" },
    { what: 'no slide id', params: { slideId: ' ' }, code: 'INVALID_ARGUMENT', message: 'slide_id is required' },
    { what: 'a threshold of 1.5', params: { threshold: 1.5 }, code: 'INVALID_ARGUMENT', message: 'threshold 1.5 must lie between 0 and 1 (exclusive)' },
    { what: 'no tiles', params: { tiles: [] }, code: 'INVALID_ARGUMENT', message: 'no tiles were requested' },
    {
      what: 'a tile off the grid',
      params: { tiles: [{ col: 0, row: 0 }, { col: 4, row: 0 }] },
      code: 'INVALID_ARGUMENT',
      message: 'tile (col 4, row 0) is outside the model grid of 4 x 4 tiles for slide painted.tif',
    },
  ];

  it.each(cases)('StreamTiles refuses $what with $code before reading any pixel', async ({ params, code, message }) => {
    const { service, segmenter, slide } = setup();
    const error = await failureOf(service.streamTiles({ slideId: SLIDE, tiles: [{ col: 0, row: 0 }], ...params }, new AbortController().signal));
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe(code);
    expect((error as GlomsegError).message).toEqual(message);
    expect(slide.reads).toEqual([]);
    expect(segmenter.calls).toHaveLength(0);
    expect(service.stats()).toMatchObject({ activeStreams: 0, failedStreams: 1 });
  });

  it('ScoreSlide refuses a region outside the slide with INVALID_ARGUMENT', async () => {
    const { service, segmenter } = setup();
    const error = await failureOf(service.scoreSlide({ slideId: SLIDE, region: { x: 600, y: 0, width: 10, height: 10 } }, new AbortController().signal));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'region {"x":600,"y":0,"width":10,"height":10} lies outside the 512 x 512 slide' });
    expect(segmenter.calls).toHaveLength(0);
  });

  it('a coded segmenter failure fails its stream with that code; the tile is not cached and the service serves on', async () => {
    const { service, segmenter } = setup();
    const failure = new GlomsegError('UNAVAILABLE', "no inference worker is running for model 'fake-unet'");
    segmenter.failWith = (call) => (call.origin.x === 128 && call.origin.y === 0 ? failure : undefined);
    expect(await failureOf(service.streamTiles({ slideId: SLIDE, tiles: ROW0 }, new AbortController().signal))).toBe(failure);
    expect(service.stats()).toMatchObject({ activeStreams: 0, failedStreams: 1 });

    segmenter.failWith = undefined;
    const outcomes = await streamSorted(service, { tiles: ROW0 });
    expect(outcomes.map((o) => o.tile)).toEqual(ROW0);
    // The failed tile ran again (a failure is never cached) and is answered now.
    expect(outcomes[1].cached).toBe(false);
    expect(segmenter.origins().filter((o) => o === '128,0')).toHaveLength(2);
    expect(service.stats()).toMatchObject({ failedStreams: 1, completedStreams: 1 });
  });

  it('an uncoded segmenter failure reaches the edge unchanged, which codes it INTERNAL without leaking its text', async () => {
    const { service, segmenter } = setup();
    const bug = new TypeError("Cannot read properties of undefined (reading 'dims')");
    segmenter.failWith = () => bug;
    const error = await failureOf(service.streamTiles({ slideId: SLIDE, tiles: [{ col: 0, row: 0 }] }, new AbortController().signal));
    // The service does not retype it: the protocol edge is the one place that does, and logs the stack.
    expect(error).toBe(bug);
    const logged: string[] = [];
    const coded = asGlomsegError(error, (line) => logged.push(line));
    expect(coded).toMatchObject({ code: 'INTERNAL', message: 'internal server error (see the server log)', cause: bug });
    expect(logged.join('\n')).toContain("reading 'dims'");

    segmenter.failWith = undefined;
    const [outcome] = await streamSorted(service, { tiles: [{ col: 0, row: 0 }] });
    expectDisc(outcome.polygons[0], A);
  });
});

describe('background skipping', () => {
  // Tissue left of x = 250, glass right of it: the tiles of columns 2 and 3 show none (with the map's slack).
  const halfGlass = { slide: { discs: [A], tissue: (x: number) => x < 250 } };

  it('StreamTiles reports tiles of bare glass as skipped and never gives them to the model', async () => {
    const { service, segmenter } = setup(halfGlass);
    const outcomes = await streamSorted(service, { tiles: ROW0 });
    expect(outcomes.map((o) => o.skipped)).toEqual([false, false, true, true]);
    expect(outcomes.slice(2).every((o) => o.polygons.length === 0 && !o.cached)).toBe(true);
    expect(outcomes[2].bounds).toEqual({ x: 256, y: 0, width: 128, height: 128 });
    expect(segmenter.origins().sort()).toEqual(['0,0', '128,0']);
    expect(service.stats().tilesSkipped).toBe(2);

    // Asked to include the background, the model runs there too.
    const included = await streamSorted(service, { tiles: ROW0.slice(2), includeBackground: true });
    expect(included.map((o) => o.skipped)).toEqual([false, false]);
    expect(segmenter.origins().slice(2).sort()).toEqual(['256,0', '384,0']);
  });

  it('ScoreSlide counts the skipped tiles in its progress and infers only the tissue', async () => {
    const { service, segmenter } = setup(halfGlass);
    const events = await collect(service.scoreSlide({ slideId: SLIDE }, new AbortController().signal));
    const progress = progressOf(events);
    expect(progress[progress.length - 1]).toMatchObject({ tilesDone: 16, tilesTotal: 16, tilesSkipped: 8 });
    expect(segmenter.calls).toHaveLength(8);
    expect(segmenter.calls.every((c) => c.origin.x < 256)).toBe(true);
    const { polygons } = resultOf(events);
    expect(polygons).toHaveLength(1);
    expectDisc(polygons[0], A);
  });
});

describe('stain normalisation', () => {
  // A card trained with Reinhard against PAS-like statistics, far from the painted slide's pale green tissue.
  const reinhardCard: Partial<ModelCard> = { stain: { method: 'reinhard', reference: { mean: [47, 36, -28], std: [10, 10, 7] } } };
  const tileOff = [{ col: 0, row: 0 }];

  it("'auto' maps every tile from the slide's statistics to the card's reference; 'off' leaves the pixels as they are", async () => {
    const { service, segmenter } = setup({ card: reinhardCard, slide: { discs: [] } });
    await streamSorted(service, { tiles: tileOff, stainNormalization: 'off' });
    await streamSorted(service, { tiles: [{ col: 1, row: 0 }] });
    const [off, auto] = segmenter.calls.map((c) => c.centre);
    expect(off).toEqual(tissueColour(0));
    // Mapped towards the reference's magenta: red above green, which the painted tissue never is.
    expect(auto[0]).toBeGreaterThan(auto[1] + 20);
  });

  it("'auto' reads a slide with too little tissue to measure as it is; a method asked for by name is refused", async () => {
    const { service, segmenter } = setup({ card: reinhardCard, slide: { discs: [], tissue: () => false } });
    const auto = await streamSorted(service, { tiles: tileOff, includeBackground: true });
    expect(auto).toHaveLength(1);
    expect(segmenter.calls[0].centre).toEqual(GLASS);
    const named = await failureOf(service.streamTiles({ slideId: SLIDE, tiles: tileOff, includeBackground: true, stainNormalization: 'reinhard' }, new AbortController().signal));
    expect(named).toBeInstanceOf(GlomsegError);
    expect((named as GlomsegError).code).toBe('FAILED_PRECONDITION');
    expect((named as GlomsegError).message).toMatch(/too little tissue.*'off'/);
    expect(segmenter.calls).toHaveLength(1);
  });
});

describe('scale', () => {
  it('reads a slide without a pixel size at the training scale, without trial runs, when the card says the estimate cannot work', async () => {
    const { service, segmenter } = setup({ card: { estimatesScale: false, mpp: 0.5 }, slide: { mpp: undefined } });
    const [model] = await service.listModels({ slideId: SLIDE });
    expect(model.grid).toMatchObject({ mppSource: 'model-default', mppAssumed: 0.5 });
    expect(segmenter.calls).toHaveLength(0);
  });

  it('estimates the scale of such a slide from the image when the card allows it (trial runs on the model)', async () => {
    const { service, segmenter } = setup({ slide: { mpp: undefined } });
    const [model] = await service.listModels({ slideId: SLIDE });
    expect(['estimated', 'model-default']).toContain(model.grid!.mppSource);
    expect(segmenter.calls.length).toBeGreaterThan(0);
  });
});
