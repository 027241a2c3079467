/**
 * The tile runner on fake ports: one outcome per distinct tile, cached and re-cut tiles at once, the rest through
 * the shared scheduler a window at a time; cancellation, failures and tiles of bare glass.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { StreamTilesParams, TileOutcome } from '@glomseg/shared/glomseg-service.js';
import type { TileAddress } from '@glomseg/shared/tile-grid.js';
import { asGlomsegError } from '@glomseg/api/error-codes.js';
import {
  A,
  closeAll,
  collect,
  contextOf,
  DISCS,
  expectDisc,
  failureOf,
  paintedParts,
  ROW0,
  type PaintedSetup,
} from '../../helpers/painted-service.js';
import { until } from '../../helpers/until.js';
import { discProbability } from '../../helpers/fake-ports.js';

afterEach(closeAll);

type Parts = ReturnType<typeof paintedParts>;

/** The runner's outcomes for `tiles` under a request's context (threshold, stain, background). */
async function run(
  parts: Parts,
  tiles: TileAddress[],
  params: Partial<StreamTilesParams> = {},
  signal = new AbortController().signal,
): Promise<AsyncGenerator<TileOutcome>> {
  return parts.runner.run(await contextOf(parts.contexts, params), tiles, signal, {
    keepProbabilities: true,
    includeProbabilities: params.includeProbabilities,
  });
}

async function runSorted(
  parts: Parts,
  tiles: TileAddress[],
  params: Partial<StreamTilesParams> = {},
): Promise<TileOutcome[]> {
  return (await collect(await run(parts, tiles, params))).sort((a, b) => a.requestIndex - b.requestIndex);
}

function setup(options: PaintedSetup = {}): Parts {
  return paintedParts(options);
}

describe('streaming', () => {
  it('yields each tile as soon as it is done, not when the whole request is', async () => {
    const parts = setup({ runner: { concurrency: 2 } });
    const { segmenter } = parts;
    segmenter.hold();
    const stream = await run(parts, [
      { col: 0, row: 0 },
      { col: 1, row: 0 },
    ]);
    const first = stream.next();
    const [slow, fast] = [await segmenter.started(1), await segmenter.started(2)];
    fast.release();
    expect((await first).value).toMatchObject({ tile: { col: 1, row: 0 }, requestIndex: 1 });
    expect(slow.state).toBe('running');
    slow.release();
    expect((await stream.next()).value).toMatchObject({ tile: { col: 0, row: 0 }, requestIndex: 0 });
    expect((await stream.next()).done).toBe(true);
  });
});

describe('caching', () => {
  it('serves repeated tiles from the cache without running the model', async () => {
    const parts = setup();
    const tiles = [
      { col: 0, row: 0 },
      { col: 1, row: 1 },
      { col: 2, row: 1 },
    ];
    const first = await runSorted(parts, tiles);
    expect(parts.segmenter.calls).toHaveLength(3);
    const again = await runSorted(parts, tiles);

    expect(parts.segmenter.calls).toHaveLength(3);
    expect(again.map((o) => o.cached)).toEqual([true, true, true]);
    expect(again.map((o) => o.polygons)).toEqual(first.map((o) => o.polygons));
    expect(again.map((o) => o.tissueFraction)).toEqual(first.map((o) => o.tissueFraction));
    expect(again.every((o) => Object.values(o.timings).every((ms) => ms === 0))).toBe(true);
    expect(parts.runner.stats()).toMatchObject({ tilesComputed: 3, tilesFromCache: 3, tilesRecut: 0 });
  });

  it('answers cached tiles first, while the others are still with the model', async () => {
    const parts = setup();
    await runSorted(parts, [{ col: 0, row: 0 }]);
    parts.segmenter.hold();
    const stream = await run(parts, [
      { col: 1, row: 1 },
      { col: 0, row: 0 },
    ]);
    expect((await stream.next()).value).toMatchObject({ tile: { col: 0, row: 0 }, requestIndex: 1, cached: true });
    // Answered before the model even started on the other tile, which is submitted once the consumer pulls again.
    expect(parts.segmenter.calls).toHaveLength(1);
    const next = stream.next();
    (await parts.segmenter.started(2)).release();
    expect((await next).value).toMatchObject({ tile: { col: 1, row: 1 }, requestIndex: 0, cached: false });
  });

  it('re-cuts a new threshold from the kept probabilities, as the model would have cut it', async () => {
    const parts = setup();
    const tiles = [
      { col: 0, row: 0 },
      { col: 1, row: 1 },
      { col: 2, row: 1 },
    ];
    await runSorted(parts, tiles);
    const recut = await runSorted(parts, tiles, { threshold: 0.75 });

    expect(parts.segmenter.calls).toHaveLength(3);
    expect(recut.map((o) => o.cached)).toEqual([true, true, true]);
    expect(parts.runner.stats()).toMatchObject({ tilesComputed: 3, tilesRecut: 3 });
    // At 0.75 only the discs' cores (radius r / 2) are glomerulus.
    expectDisc(recut[0].polygons[0], A, A.r / 2);

    const fresh = setup();
    const computed = await runSorted(fresh, tiles, { threshold: 0.75 });
    expect(fresh.segmenter.calls).toHaveLength(3);
    expect(recut.map((o) => o.polygons)).toEqual(computed.map((o) => o.polygons));

    // The re-cut is cached in turn: the same threshold again is a plain cache hit.
    await runSorted(parts, tiles, { threshold: 0.75 });
    expect(parts.runner.stats()).toMatchObject({ tilesRecut: 3, tilesFromCache: 3 });
  });

  it('keeps no probabilities when asked not to, and runs the model again for a new threshold then', async () => {
    const parts = setup();
    const tile = [{ col: 0, row: 0 }];
    await collect(
      parts.runner.run(await contextOf(parts.contexts), tile, new AbortController().signal, {
        keepProbabilities: false,
      }),
    );
    expect(parts.segmenter.calls.map((c) => c.wantsProbabilities)).toEqual([false]);
    const [outcome] = await runSorted(parts, tile, { threshold: 0.75 });
    expect(outcome.cached).toBe(false);
    expect(parts.segmenter.calls).toHaveLength(2);
  });

  it('drops blobs that never reach the seed threshold when the card requires a core, on fresh and re-cut tiles', async () => {
    // A confident glomerulus and a faint blob of the same size, apart, inside tile (0, 0).
    const probability = (x: number, y: number): number => {
      if (Math.hypot(x - 36, y - 64) < 24) return 0.99;
      return Math.hypot(x - 96, y - 64) < 24 ? 0.88 : 0.05;
    };
    const tiles = [{ col: 0, row: 0 }];
    const without = setup({ slide: { probability }, card: { seedThreshold: 0.95, minArea: 50 } });
    expect((await runSorted(without, tiles, { threshold: 0.8 }))[0].polygons).toHaveLength(2);

    const parts = setup({ slide: { probability }, card: { seedThreshold: 0.95, requireCore: true, minArea: 50 } });
    const [fresh] = await runSorted(parts, tiles, { threshold: 0.8 });
    expect(fresh.polygons).toHaveLength(1);
    expect(Math.min(...fresh.polygons[0].exterior.map(([x]) => x))).toBeLessThan(20); // the confident one
    const [recut] = await runSorted(parts, tiles, { threshold: 0.85 });
    expect(recut.cached).toBe(true);
    expect(recut.polygons).toHaveLength(1);
  });

  it('runs the model again for a new threshold when the segmenter keeps no probabilities', async () => {
    const parts = setup();
    parts.segmenter.returnsKept = false;
    await runSorted(parts, [{ col: 0, row: 0 }]);
    const [outcome] = await runSorted(parts, [{ col: 0, row: 0 }], { threshold: 0.75 });
    expect(parts.segmenter.calls).toHaveLength(2);
    expect(outcome.cached).toBe(false);
    expectDisc(outcome.polygons[0], A, A.r / 2);
  });
});

describe('heatmap rasters (includeProbabilities)', () => {
  /** An outcome's PNG as grey levels, checked to be 8-bit greyscale over the whole 128-pixel tile. */
  function greyOf(outcome: TileOutcome): Uint8Array {
    expect(outcome.probabilityPng, `tile ${outcome.tile.col},${outcome.tile.row}`).toBeInstanceOf(Uint8Array);
    const png = PNG.sync.read(Buffer.from(outcome.probabilityPng!));
    expect([png.width, png.height]).toEqual([outcome.bounds.width, outcome.bounds.height]);
    const grey = new Uint8Array(png.width * png.height);
    for (let i = 0; i < grey.length; i++) grey[i] = png.data[4 * i];
    return grey;
  }

  /** The grey levels say what was painted over the tile's bounds (the margin left out), within rounding. */
  function expectPainted(outcome: TileOutcome): void {
    const grey = greyOf(outcome);
    const { x: x0, y: y0, width } = outcome.bounds;
    let worst = 0;
    grey.forEach((level, i) => {
      const painted = 255 * discProbability(DISCS, x0 + (i % width), y0 + Math.floor(i / width));
      worst = Math.max(worst, Math.abs(level - painted));
    });
    expect(worst).toBeLessThanOrEqual(1);
  }

  it('sends each inferred tile its probabilities over its bounds, and sends none unless asked', async () => {
    const parts = setup();
    const tiles = [
      { col: 0, row: 0 },
      { col: 1, row: 1 },
      { col: 2, row: 1 },
    ];
    const plain = await runSorted(setup(), tiles);
    expect(plain.map((o) => o.probabilityPng)).toEqual([undefined, undefined, undefined]);
    const withHeatmap = await runSorted(parts, tiles, { includeProbabilities: true });
    withHeatmap.forEach(expectPainted);
    // Disc B crosses the border of (1, 1) and (2, 1): each tile's raster holds its own part of it.
    expect(Math.max(...greyOf(withHeatmap[1]))).toBeGreaterThan(200);
    expect(Math.max(...greyOf(withHeatmap[2]))).toBeGreaterThan(200);
    expect(withHeatmap.map((o) => o.polygons)).toEqual(plain.map((o) => o.polygons));
  });

  it('answers cached and re-cut tiles from the kept probabilities without the model', async () => {
    const parts = setup();
    const tiles = [
      { col: 0, row: 0 },
      { col: 1, row: 1 },
    ];
    await runSorted(parts, tiles); // cached without a raster
    const cached = await runSorted(parts, tiles, { includeProbabilities: true });
    const recut = await runSorted(parts, tiles, { includeProbabilities: true, threshold: 0.75 });
    expect(parts.segmenter.calls).toHaveLength(2);
    expect([...cached, ...recut].map((o) => o.cached)).toEqual([true, true, true, true]);
    [...cached, ...recut].forEach(expectPainted);
    // A later plain request is not sent the raster it did not ask for.
    expect((await runSorted(parts, tiles)).map((o) => o.probabilityPng)).toEqual([undefined, undefined]);
  });

  it('runs the model again for a tile whose probabilities are no longer kept', async () => {
    const parts = setup({ runner: { probabilityCacheBytes: 1 } }); // no tile's probabilities fit
    const tile = [{ col: 0, row: 0 }];
    await runSorted(parts, tile);
    const [outcome] = await runSorted(parts, tile, { includeProbabilities: true });
    expect(parts.segmenter.calls).toHaveLength(2);
    expect(outcome.cached).toBe(false);
    expectPainted(outcome);
    // Its raster is cached with its result from then on.
    const [again] = await runSorted(parts, tile, { includeProbabilities: true });
    expect(parts.segmenter.calls).toHaveLength(2);
    expect(again.probabilityPng).toEqual(outcome.probabilityPng);
  });
});

describe('cancellation', () => {
  it('an abort mid-stream stops the tile with the model, drops the queued one, and rejects with CANCELLED', async () => {
    // One tile with the model at a time, two in flight per stream: the second runs while the third queues.
    const parts = setup({ runner: { concurrency: 1, streamWindow: 2 } });
    const { segmenter, runner } = parts;
    segmenter.hold();
    const controller = new AbortController();
    const stream = await run(parts, ROW0, {}, controller.signal);
    const first = stream.next();
    (await segmenter.started(1)).release();
    expect((await first).value).toMatchObject({ tile: ROW0[0], cached: false });

    const second = stream.next();
    const running = await segmenter.started(2);
    expect(running.origin).toEqual({ x: 128, y: 0 });
    await until(() => runner.stats().scheduler.queued === 1);
    controller.abort();

    const error = await second.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('CANCELLED');
    expect((error as GlomsegError).message).toMatch(/abort/i);
    segmenter.releaseAll();
    await until(() => runner.stats().scheduler.running === 0);

    // Nothing more reached the model: the running tile was aborted, the queued one never started.
    expect(running.state).toBe('aborted');
    expect(running.signal?.aborted).toBe(true);
    expect(segmenter.origins()).toEqual(['0,0', '128,0']);
    expect(runner.stats()).toMatchObject({
      tilesComputed: 1,
      scheduler: { queued: 0, running: 0, droppedQueued: 1, abortedRunning: 1 },
    });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('a consumer that stops pulling (client gone) abandons the tiles in flight', async () => {
    const parts = setup({ runner: { concurrency: 2, streamWindow: 2 } });
    const { segmenter, runner } = parts;
    segmenter.hold();
    const seen: TileOutcome[] = [];
    const stream = await run(parts, ROW0);
    const consumer = (async () => {
      for await (const outcome of stream) {
        seen.push(outcome);
        break;
      }
    })();
    const [first, second] = [await segmenter.started(1), await segmenter.started(2)];
    first.release();
    await consumer;
    await until(() => runner.stats().scheduler.running === 0);

    expect(seen.map((o) => o.tile)).toEqual([ROW0[0]]);
    expect(second.state).toBe('aborted');
    expect(segmenter.calls).toHaveLength(2);
  });

  it('a tile two streams share goes on for the one that stays when the other cancels', async () => {
    const parts = setup({ runner: { concurrency: 1 } });
    const { segmenter, runner } = parts;
    segmenter.hold();
    const tiles = [{ col: 0, row: 0 }];
    const leaving = new AbortController();
    const left = collect(await run(parts, tiles, {}, leaving.signal));
    const stays = collect(await run(parts, tiles));
    const call = await segmenter.started(1);
    await until(() => runner.stats().scheduler.deduplicated === 1);
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: 'CANCELLED' });

    expect(call.signal?.aborted).toBe(false);
    call.release();
    const [outcome] = await stays;
    expect(outcome.cached).toBe(false);
    expectDisc(outcome.polygons[0], A);
    expect(segmenter.calls).toHaveLength(1);
  });
});

describe('failures', () => {
  it('a coded segmenter failure fails its stream with that code; the tile is not cached and the runner serves on', async () => {
    const parts = setup();
    const failure = new GlomsegError('UNAVAILABLE', "no inference worker is running for model 'fake-unet'");
    parts.segmenter.failWith = (call) => (call.origin.x === 128 && call.origin.y === 0 ? failure : undefined);
    expect(await failureOf(await run(parts, ROW0))).toBe(failure);

    parts.segmenter.failWith = undefined;
    const outcomes = await runSorted(parts, ROW0);
    expect(outcomes.map((o) => o.tile)).toEqual(ROW0);
    // The failed tile ran again (a failure is never cached) and is answered now.
    expect(outcomes[1].cached).toBe(false);
    expect(parts.segmenter.origins().filter((o) => o === '128,0')).toHaveLength(2);
  });

  it('an uncoded segmenter failure reaches the edge unchanged, which codes it INTERNAL without leaking its text', async () => {
    const parts = setup();
    const bug = new TypeError("Cannot read properties of undefined (reading 'dims')");
    parts.segmenter.failWith = () => bug;
    const error = await failureOf(await run(parts, [{ col: 0, row: 0 }]));
    // The service does not retype it: the protocol edge is the one place that does, and logs the stack.
    expect(error).toBe(bug);
    const logged: string[] = [];
    const coded = asGlomsegError(error, (line) => logged.push(line));
    expect(coded).toMatchObject({
      code: 'INTERNAL',
      message: 'internal server error (see the server log)',
      cause: bug,
    });
    expect(logged.join('\n')).toContain("reading 'dims'");

    parts.segmenter.failWith = undefined;
    const [outcome] = await runSorted(parts, [{ col: 0, row: 0 }]);
    expectDisc(outcome.polygons[0], A);
  });
});

describe('background skipping', () => {
  it('reports tiles of bare glass as skipped and never gives them to the model, unless asked to include them', async () => {
    // Tissue left of x = 250, glass right of it: the tiles of columns 2 and 3 show none (with the map's slack).
    const parts = setup({ slide: { discs: [A], tissue: (x: number) => x < 250 } });
    const outcomes = await runSorted(parts, ROW0);
    expect(outcomes.map((o) => o.skipped)).toEqual([false, false, true, true]);
    expect(outcomes.slice(2).every((o) => o.polygons.length === 0 && !o.cached)).toBe(true);
    expect(outcomes[2].bounds).toEqual({ x: 256, y: 0, width: 128, height: 128 });
    expect(parts.segmenter.origins().sort()).toEqual(['0,0', '128,0']);
    expect(parts.runner.stats().tilesSkipped).toBe(2);

    const included = await runSorted(parts, ROW0.slice(2), { includeBackground: true });
    expect(included.map((o) => o.skipped)).toEqual([false, false]);
    expect(parts.segmenter.origins().slice(2).sort()).toEqual(['256,0', '384,0']);
  });
});
