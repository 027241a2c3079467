/**
 * The StreamTiles use case on fake ports: one outcome per distinct tile, with its request index, bounds and the
 * pieces of the discs it holds; requests refused before any pixel is read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { StreamTilesParams } from '@glomseg/shared/glomseg-service.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import {
  A,
  closeAll,
  expectDisc,
  failureOf,
  paintedParts,
  streamOf,
  streamSorted,
} from '../../helpers/painted-service.js';

afterEach(closeAll);

describe('StreamTiles', () => {
  it('yields one outcome per distinct tile, with its request index, bounds and the pieces of the discs it holds', async () => {
    const { parts, segmenter } = paintedParts();
    const tiles = [
      { col: 0, row: 0 },
      { col: 1, row: 1 },
      { col: 2, row: 1 },
      { col: 1, row: 1 },
      { col: 3, row: 0 },
    ];
    const outcomes = await streamSorted(parts, { tiles });

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

  it("keeps the probabilities of the tiles it runs, for a viewer's next threshold", async () => {
    const { parts, segmenter } = paintedParts();
    await streamSorted(parts, { tiles: [{ col: 0, row: 0 }] });
    expect(segmenter.calls.map((c) => c.wantsProbabilities)).toEqual([true]);
  });

  const refusals: Array<{ what: string; params: Partial<StreamTilesParams>; code: string; message: string | RegExp }> =
    [
      {
        what: 'an unknown slide',
        params: { slideId: 'missing.svs' },
        code: 'NOT_FOUND',
        message: "no slide 'missing.svs' in the configured slide folders",
      },
      {
        what: 'an unknown model',
        params: { modelId: 'no-such-model' },
        code: 'NOT_FOUND',
        message: "no model 'no-such-model'; available: fake-unet",
      },
      {
        what: 'a tile off the grid',
        params: {
          tiles: [
            { col: 0, row: 0 },
            { col: 4, row: 0 },
          ],
        },
        code: 'INVALID_ARGUMENT',
        message: 'tile (col 4, row 0) is outside the model grid of 4 x 4 tiles for slide painted.tif',
      },
    ];

  it.each(refusals)('refuses $what with $code before reading any pixel', async ({ params, code, message }) => {
    const { parts, segmenter, slide } = paintedParts();
    const error = await failureOf(streamOf(parts, { tiles: [{ col: 0, row: 0 }], ...params }));
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe(code);
    expect((error as GlomsegError).message).toEqual(message);
    expect(slide.reads).toEqual([]);
    expect(segmenter.calls).toHaveLength(0);
  });

  it('refuses a list over the tile budget with RESOURCE_EXHAUSTED before it opens the slide', async () => {
    const { parts, slides } = paintedParts({ limits: { maxTilesPerRequest: 2 } });
    const error = await failureOf(
      streamOf(parts, {
        slideId: 'missing.svs',
        tiles: [
          { col: 0, row: 0 },
          { col: 1, row: 0 },
          { col: 2, row: 0 },
        ],
      }),
    );
    expect(error).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringMatching(/^the tile list is 3 model tiles; one request may cover at most 2/),
    });
    expect(slides.opened).toEqual([]);
  });
});
