/**
 * The domain service's facade on fake ports (test/helpers/fake-ports.ts): what it answers itself (slide info,
 * models), and its parts working together behind it: streams counted while the tile runner serves them, caches
 * shared between calls, cancellation and failures seen in its stats. Each part has its own tests beside this one
 * (tile-runner, slide-cache, tile-context, stream-tiles, score-slide, stream-counter).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { StreamTilesParams, TileOutcome } from '@glomseg/shared/glomseg-service.js';
import type { TileAddress } from '@glomseg/shared/tile-grid.js';
import {
  checkListModels,
  checkScoreSlide,
  checkSlideRequest,
  checkStreamTiles,
} from '@glomseg/api/server/request-checks.js';
import type { DomainGlomsegService } from '../../../server/src/service/glomseg-service.js';
import {
  A,
  closeAll,
  collect,
  expectDisc,
  failureOf,
  paintedService,
  resultOf,
  ROW0,
  SLIDE,
} from '../../helpers/painted-service.js';
import { until } from '../../helpers/until.js';

afterEach(closeAll);

function stream(
  service: DomainGlomsegService,
  params: Partial<StreamTilesParams> & { tiles: TileAddress[] },
  signal = new AbortController().signal,
): AsyncIterable<TileOutcome> {
  return service.streamTiles(checkStreamTiles({ slideId: SLIDE, ...params }), signal);
}

async function streamSorted(
  service: DomainGlomsegService,
  params: Partial<StreamTilesParams> & { tiles: TileAddress[] },
): Promise<TileOutcome[]> {
  return (await collect(stream(service, params))).sort((a, b) => a.requestIndex - b.requestIndex);
}

describe('what the facade answers', () => {
  it('describes a slide with its survey, and one whose pixels cannot be read without it', async () => {
    const { service, slides } = paintedService();
    const info = await service.getSlideInfo(checkSlideRequest({ slideId: SLIDE }));
    expect(info).toMatchObject({
      id: SLIDE,
      width: 512,
      height: 512,
      stain: { level: 0, tissueMapped: true, unmeasuredBecause: undefined },
    });
    expect(info.stain.statistics).toBeDefined();

    const broken = paintedService();
    const source = await broken.slides.open(SLIDE);
    source.readRegion = async () => Promise.reject(new GlomsegError('FAILED_PRECONDITION', 'unsupported compression'));
    const described = await broken.service.getSlideInfo(checkSlideRequest({ slideId: SLIDE }));
    expect(described.stain).toEqual({ level: -1, tissueMapped: false, unmeasuredBecause: 'unsupported compression' });
    expect(slides.opened).toEqual([SLIDE]);
  });

  it('lists the models, with their grid on a slide when one is named', async () => {
    const { service } = paintedService();
    const [bare] = await service.listModels(checkListModels({}));
    expect(bare).toMatchObject({ card: { id: 'fake-unet' }, device: 'fake', grid: undefined });
    const [onSlide] = await service.listModels(checkListModels({ slideId: SLIDE, mppOverride: 0.25 }));
    expect(onSlide.grid).toMatchObject({ slideId: SLIDE, mppSource: 'request', mppAssumed: 0.25, cols: 4, rows: 4 });
  });

  it('reads a slide without a pixel size at the training scale, without trial runs, when the card says the estimate cannot work', async () => {
    const { service, segmenter } = paintedService({
      card: { estimatesScale: false, mpp: 0.5 },
      slide: { mpp: undefined },
    });
    const [model] = await service.listModels(checkListModels({ slideId: SLIDE }));
    expect(model.grid).toMatchObject({ mppSource: 'model-default', mppAssumed: 0.5 });
    expect(segmenter.calls).toHaveLength(0);
  });

  it('estimates the scale of such a slide from the image when the card allows it (trial runs on the model)', async () => {
    const { service, segmenter } = paintedService({ slide: { mpp: undefined } });
    const [model] = await service.listModels(checkListModels({ slideId: SLIDE }));
    expect(['estimated', 'model-default']).toContain(model.grid!.mppSource);
    expect(segmenter.calls.length).toBeGreaterThan(0);
  });
});

describe('the parts together', () => {
  it('serves a repeated StreamTiles from the cache, and counts both streams completed', async () => {
    const { service, segmenter } = paintedService();
    const tiles = [
      { col: 0, row: 0 },
      { col: 1, row: 1 },
      { col: 2, row: 1 },
    ];
    const first = await streamSorted(service, { tiles });
    const again = await streamSorted(service, { tiles });
    expect(segmenter.calls).toHaveLength(3);
    expect(again.map((o) => o.polygons)).toEqual(first.map((o) => o.polygons));
    expect(service.stats()).toMatchObject({
      tilesComputed: 3,
      tilesFromCache: 3,
      tilesRecut: 0,
      completedStreams: 2,
      cache: { entries: 3 },
    });
  });

  it("a whole-slide score after a viewer's tiles reuses them", async () => {
    const { service, segmenter } = paintedService();
    await streamSorted(service, { tiles: ROW0 });
    const result = resultOf(
      await collect(service.scoreSlide(checkScoreSlide({ slideId: SLIDE }), new AbortController().signal)),
    );
    expect(result.polygons).toHaveLength(4);
    expect(segmenter.calls).toHaveLength(16);
    expect(service.stats()).toMatchObject({ tilesFromCache: 4, tilesComputed: 16, completedStreams: 2 });
  });

  it('an abort mid-stream stops the tile with the model, drops the queued one, and counts a cancelled stream', async () => {
    const { service, segmenter } = paintedService({ runner: { concurrency: 1, streamWindow: 2 } });
    segmenter.hold();
    const controller = new AbortController();
    const iterator = stream(service, { tiles: ROW0 }, controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    (await segmenter.started(1)).release();
    await first;
    const second = iterator.next();
    await segmenter.started(2);
    await until(() => service.stats().scheduler.queued === 1);
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'CANCELLED' });
    segmenter.releaseAll();
    await until(() => service.stats().scheduler.running === 0);
    expect(service.stats()).toMatchObject({
      activeStreams: 0,
      cancelledStreams: 1,
      tilesComputed: 1,
      scheduler: { queued: 0, running: 0, droppedQueued: 1, abortedRunning: 1 },
    });
  });

  it('a consumer that stops pulling (client gone) abandons the tiles in flight and counts as a cancel', async () => {
    const { service, segmenter } = paintedService({ runner: { concurrency: 2, streamWindow: 2 } });
    segmenter.hold();
    const consumer = (async () => {
      for await (const _ of stream(service, { tiles: ROW0 })) break;
    })();
    const [first, second] = [await segmenter.started(1), await segmenter.started(2)];
    first.release();
    await consumer;
    await until(() => service.stats().scheduler.running === 0);
    expect(second.state).toBe('aborted');
    expect(service.stats()).toMatchObject({ activeStreams: 0, cancelledStreams: 1, completedStreams: 0 });
  });

  it.each<[string, Partial<StreamTilesParams>, string]>([
    ['an unknown slide', { slideId: 'missing.svs' }, 'NOT_FOUND'],
    ['an unknown model', { modelId: 'no-such-model' }, 'NOT_FOUND'],
    ['a tile off the grid', { tiles: [{ col: 4, row: 0 }] }, 'INVALID_ARGUMENT'],
  ])('counts a stream refused for %s as failed, and serves on', async (_what, params, code) => {
    const { service } = paintedService();
    expect(await failureOf(stream(service, { tiles: [{ col: 0, row: 0 }], ...params }))).toMatchObject({ code });
    expect(service.stats()).toMatchObject({ activeStreams: 0, failedStreams: 1 });
    const [outcome] = await streamSorted(service, { tiles: [{ col: 0, row: 0 }] });
    expectDisc(outcome.polygons[0], A);
  });

  it('a coded segmenter failure fails its stream and is counted; the service serves on', async () => {
    const { service, segmenter } = paintedService();
    const failure = new GlomsegError('UNAVAILABLE', "no inference worker is running for model 'fake-unet'");
    segmenter.failWith = (call) => (call.origin.x === 128 && call.origin.y === 0 ? failure : undefined);
    expect(await failureOf(stream(service, { tiles: ROW0 }))).toBe(failure);
    segmenter.failWith = undefined;
    expect((await streamSorted(service, { tiles: ROW0 })).map((o) => o.tile)).toEqual(ROW0);
    expect(service.stats()).toMatchObject({ failedStreams: 1, completedStreams: 1 });
  });

  it('closing stops the work in flight', async () => {
    const { service, segmenter } = paintedService();
    segmenter.hold();
    const running = collect(stream(service, { tiles: [{ col: 0, row: 0 }] }));
    const call = await segmenter.started(1);
    await service.close();
    await expect(running).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'the server is shutting down' });
    expect(call.state).toBe('aborted');
  });
});
