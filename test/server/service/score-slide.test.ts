/**
 * The ScoreSlide use case on fake ports: progress as tiles finish, then one result whose polygons are whole
 * glomeruli, clipped to the region and scored against the ground truth; bounds and bad ground truth refused before
 * any inference.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkScoreSlide, checkStreamTiles } from '@glomseg/api/server/request-checks.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import type { Disc } from '../../helpers/fake-ports.js';
import {
  A,
  B,
  byCentre,
  closeAll,
  collect,
  DISCS,
  expectDisc,
  failureOf,
  paintedParts,
  paintedService,
  progressOf,
  resultOf,
  ROW0,
  scoreOf,
  SLIDE,
  streamSorted,
} from '../../helpers/painted-service.js';

afterEach(closeAll);

describe('ScoreSlide', () => {
  it('yields progress, then one result whose polygons are the discs, each whole across tile borders', async () => {
    const { parts, segmenter } = paintedParts();
    const events = await collect(scoreOf(parts));

    expect(events.slice(0, -1).every((e) => e.kind === 'progress')).toBe(true);
    const progress = progressOf(events);
    expect(progress[0]).toMatchObject({ tilesDone: 0, tilesTotal: 16, tilesSkipped: 0 });
    expect(progress[progress.length - 1]).toMatchObject({ tilesDone: 16, tilesTotal: 16, tilesSkipped: 0, etaMs: 0 });
    expect(progress.map((p) => p.tilesDone)).toEqual([...progress.map((p) => p.tilesDone)].sort((a, b) => a - b));
    expect(segmenter.calls).toHaveLength(16);

    const result = resultOf(events);
    expect(result).toMatchObject({
      slideId: 'painted.tif',
      modelId: 'fake-unet',
      region: { x: 0, y: 0, width: 512, height: 512 },
    });
    expect(result.metrics).toBeUndefined();
    // Four glomeruli, not the seven pieces the tiles hold (B in two, D in four).
    expect(result.polygons).toHaveLength(4);
    for (const disc of DISCS) expectDisc(byCentre(result.polygons, disc), disc);
    expect(result.polygons.every((p) => p.touches.length === 0 && p.holes.length === 0)).toBe(true);
  });

  it('of a region keeps only the glomeruli that reach into it', async () => {
    const { parts } = paintedParts();
    const events = await collect(scoreOf(parts, { region: { x: 0, y: 0, width: 250, height: 250 } }));
    const result = resultOf(events);
    expect(progressOf(events)[0].tilesTotal).toBe(4);
    expect(result.polygons).toHaveLength(2);
    expectDisc(byCentre(result.polygons, A), A);
    // B reaches in from (1, 1); the region reads only that tile, so B comes back as its piece there (x 226 to 256).
    expect(polygonBBox(byCentre(result.polygons, B))).toMatchObject({
      x: expect.closeTo(226, 0),
      width: expect.closeTo(30, 0),
    });
  });

  it('checks the annotations before any inference and scores the merged polygons against them', async () => {
    const { parts, segmenter, scorer } = paintedParts();
    const annotations = { content: '{"type":"FeatureCollection","features":[]}', format: 'geojson' as const };
    const result = resultOf(await collect(scoreOf(parts, { annotations, diceTileWidth: 256, diceTileHeight: 256 })));
    expect(scorer.checks).toEqual([
      expect.objectContaining({
        content: annotations.content,
        format: 'geojson',
        name: 'painted.tif',
        width: 512,
        height: 512,
      }),
    ]);
    expect(scorer.diceCalls).toHaveLength(1);
    expect(scorer.diceCalls[0].predicted).toBe(result.polygons);
    expect(scorer.diceCalls[0]).toMatchObject({
      region: { x: 0, y: 0, width: 512, height: 512 },
      tile: { tileWidth: 256, tileHeight: 256 },
    });
    expect(result.metrics).toEqual(scorer.metrics);
    expect(segmenter.calls).toHaveLength(16);

    // Bad ground truth fails the request before the model runs at all.
    const fresh = paintedParts();
    fresh.scorer.checkFailure = new GlomsegError('INVALID_ARGUMENT', 'annotations: not a GeoJSON FeatureCollection');
    const error = await failureOf(scoreOf(fresh.parts, { annotations }));
    expect(error).toBe(fresh.scorer.checkFailure);
    expect(fresh.segmenter.calls).toHaveLength(0);
  });

  it('scores on the standard 1600 x 1200 Dice grid when the request names none', async () => {
    const { parts, scorer } = paintedParts();
    await collect(scoreOf(parts, { annotations: { content: '{}', format: 'geojson' } }));
    expect(scorer.diceCalls[0].tile).toEqual({ tileWidth: 1600, tileHeight: 1200 });
  });

  it('keeps no probabilities for a whole-slide score: a batch pass would push out what viewers keep for re-cuts', async () => {
    // Room for one tile's probabilities (a fake tile's window is 160 x 160 floats, 100 KiB).
    const { parts, segmenter, runner } = paintedParts({ runner: { probabilityCacheBytes: 150 * 1024 } });
    const viewed = [{ col: 1, row: 1 }];
    await streamSorted(parts, { tiles: viewed });
    await collect(scoreOf(parts, { threshold: 0.6 }));
    const calls = segmenter.calls.length;
    expect(calls).toBe(16); // the viewed tile once, then the 15 others (the score re-cut the viewed one)
    // The viewer asked for its tile's probabilities back; the score asked for none (it would only drop them).
    expect(segmenter.calls.map((c) => c.wantsProbabilities)).toEqual([true, ...new Array(15).fill(false)]);
    const { tilesRecut } = runner.stats();

    // The viewer's tile is still re-cut at a new threshold; a tile only the score ran goes back to the model.
    const recut = await streamSorted(parts, { tiles: viewed, threshold: 0.75 });
    expect(recut[0].cached).toBe(true);
    expect(runner.stats().tilesRecut).toBe(tilesRecut + 1);
    await streamSorted(parts, { tiles: [{ col: 2, row: 1 }], threshold: 0.75 });
    expect(segmenter.calls.length).toBe(calls + 1);
    expect(runner.stats().tilesRecut).toBe(tilesRecut + 1);
  });

  it('judges the minimum area on joined glomeruli: a small sliver across a tile border stays on, small blobs go', async () => {
    const across: Disc = { x: 124, y: 64, r: 20 }; // 4 px past tile (0, 0)'s right edge: a sliver of ~470 px^2 in (1, 0)
    const small: Disc = { x: 64, y: 200, r: 8 }; // 201 px^2, inside tile (0, 1)
    const smallAcross: Disc = { x: 256, y: 200, r: 10 }; // 314 px^2, halved by the border of tiles (1, 1) and (2, 1)
    const { parts } = paintedParts({ slide: { discs: [across, small, smallAcross] }, card: { minArea: 600 } });
    const result = resultOf(await collect(scoreOf(parts)));
    expect(result.polygons).toHaveLength(1);
    expectDisc(result.polygons[0], across);
  });

  it('parts touching glomeruli between their cores when the card names a seed threshold, on fresh and re-cut tiles', async () => {
    // Two glomeruli inside tile (0, 0) whose probability falls towards the rim and stays at 0.85 where they touch.
    const pair = (x: number, y: number): number => {
      const d = Math.min(Math.hypot(x - 40, y - 64), Math.hypot(x - 88, y - 64)) / 26;
      return d < 1 ? 0.99 - 0.15 * d : 0.05;
    };
    const tiles = [{ col: 0, row: 0 }];
    const plain = paintedParts({ slide: { probability: pair } });
    expect((await streamSorted(plain.parts, { tiles, threshold: 0.8 }))[0].polygons).toHaveLength(1);

    const { parts, runner } = paintedParts({
      slide: { probability: pair },
      card: { seedThreshold: 0.95, minArea: 50 },
    });
    const [fresh] = await streamSorted(parts, { tiles, threshold: 0.8 });
    expect(fresh.cached).toBe(false);
    expect(fresh.polygons).toHaveLength(2);
    const recutAt = await streamSorted(parts, { tiles, threshold: 0.82 });
    expect(recutAt[0].cached).toBe(true);
    expect(runner.stats()).toMatchObject({ tilesRecut: 1 });
    expect(recutAt[0].polygons).toHaveLength(2);
    const result = resultOf(
      await collect(scoreOf(parts, { region: { x: 0, y: 0, width: 128, height: 128 }, threshold: 0.8 })),
    );
    expect(result.polygons).toHaveLength(2);
  });

  it('counts the skipped tiles in its progress and infers only the tissue', async () => {
    const { parts, segmenter } = paintedParts({ slide: { discs: [A], tissue: (x: number) => x < 250 } });
    const events = await collect(scoreOf(parts));
    const progress = progressOf(events);
    expect(progress[progress.length - 1]).toMatchObject({ tilesDone: 16, tilesTotal: 16, tilesSkipped: 8 });
    expect(segmenter.calls).toHaveLength(8);
    expect(segmenter.calls.every((c) => c.origin.x < 256)).toBe(true);
    const { polygons } = resultOf(events);
    expect(polygons).toHaveLength(1);
    expectDisc(polygons[0], A);
  });
});

describe('ScoreSlide on larger tiles than StreamTiles', () => {
  it("works in the card's scoreTileSize with the same margin, and gives the same glomeruli", async () => {
    const { parts, segmenter } = paintedParts({ card: { scoreTileSize: 256 } });
    const result = resultOf(await collect(scoreOf(parts)));
    // 2 x 2 tiles of 256 where the card's own 128 make 4 x 4; each window is the tile plus the 16 px margin.
    expect(segmenter.calls).toHaveLength(4);
    expect(segmenter.calls.map((c) => c.image)).toEqual(Array(4).fill({ width: 288, height: 288 }));
    expect(result.grid).toMatchObject({ tileSize: 256, tileSizeLevel0: 256, margin: 16, cols: 2, rows: 2 });
    expect(result.polygons).toHaveLength(4);
    for (const disc of DISCS) expectDisc(byCentre(result.polygons, disc), disc);
  });

  it("takes the service's tile size over the card's, and StreamTiles keeps the card's tileSize", async () => {
    const { service, segmenter } = paintedService({ card: { scoreTileSize: 256 }, service: { scoreTileSize: 512 } });
    const signal = new AbortController().signal;
    const scored = resultOf(await collect(service.scoreSlide(checkScoreSlide({ slideId: SLIDE }), signal)));
    expect(scored.grid.tileSize).toBe(512);
    expect(segmenter.calls).toHaveLength(1);
    // The score's tile (0, 0) is not the viewer's tile (0, 0): computed again at 128, not taken from the cache.
    const streamed = await collect(service.streamTiles(checkStreamTiles({ slideId: SLIDE, tiles: ROW0 }), signal));
    expect(streamed.every((t) => !t.cached && t.bounds.width === 128 && t.grid.tileSize === 128)).toBe(true);
    expect(segmenter.calls).toHaveLength(5);
  });
});

describe('refusals before any inference', () => {
  it('refuses a region outside the slide with INVALID_ARGUMENT', async () => {
    const { parts, segmenter } = paintedParts();
    const error = await failureOf(scoreOf(parts, { region: { x: 600, y: 0, width: 10, height: 10 } }));
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'region {"x":600,"y":0,"width":10,"height":10} lies outside the 512 x 512 slide',
    });
    expect(segmenter.calls).toHaveLength(0);
  });

  it('refuses a region over the tile budget, and a Dice grid of too many cells, with RESOURCE_EXHAUSTED', async () => {
    const tight = paintedParts({ limits: { maxTilesPerRequest: 15, maxDiceCells: 3 } });
    const tiles = await failureOf(scoreOf(tight.parts));
    expect(tiles).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringMatching(
        /^region 512 x 512 at 0.5 um\/px is 16 model tiles; one request may cover at most 15/,
      ),
    });
    const region = { x: 0, y: 0, width: 256, height: 256 };
    const dice = await failureOf(
      scoreOf(tight.parts, {
        region,
        annotations: { content: '{}', format: 'geojson' },
        diceTileWidth: 128,
        diceTileHeight: 128,
      }),
    );
    expect(dice).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringMatching(/Dice grid .* has 4 cells; at most 3/),
    });
    expect(tight.scorer.checks).toHaveLength(0);
    expect(tight.segmenter.calls).toHaveLength(0);
  });

  it('a request cancelled before it starts does no work', async () => {
    const { parts, segmenter, slide, slides } = paintedParts();
    const controller = new AbortController();
    controller.abort();
    const error = await failureOf(scoreOf(parts, {}, controller.signal));
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect(slides.opened).toEqual([]);
    expect(slide.reads).toEqual([]);
    expect(segmenter.calls).toHaveLength(0);
  });
});
