/**
 * The one validator: every call's parameters become checked ones or INVALID_ARGUMENT, in words that name the
 * field, whichever way they came in (the wire mapping in from-proto.ts calls the same functions).
 */
import { describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import {
  checkListModels,
  checkScoreSlide,
  checkSlideRequest,
  checkStreamTiles,
  checkViewerTile,
} from '@glomseg/api/server/request-checks.js';

const TILE = [{ col: 0, row: 0 }];

function refusal(check: () => unknown): string {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('INVALID_ARGUMENT');
    return (error as GlomsegError).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('the slide id', () => {
  it('is required, and at most 4096 characters long, in every call that takes one', () => {
    const long = `${'x'.repeat(4996)}.tif`;
    for (const slideId of [' ', '']) {
      expect(refusal(() => checkSlideRequest({ slideId }))).toBe('slide_id is required');
      expect(refusal(() => checkStreamTiles({ slideId, tiles: TILE }))).toBe('slide_id is required');
      expect(refusal(() => checkScoreSlide({ slideId }))).toBe('slide_id is required');
      expect(refusal(() => checkViewerTile({ slideId, level: 0, col: 0, row: 0 }))).toBe('slide_id is required');
    }
    for (const check of [
      () => checkSlideRequest({ slideId: long }),
      () => checkListModels({ slideId: long }),
      () => checkScoreSlide({ slideId: long }),
    ]) {
      expect(refusal(check)).toBe('slide_id is 5000 characters long; at most 4096');
    }
    expect(checkSlideRequest({ slideId: 'x'.repeat(4096) }).slideId).toHaveLength(4096);
  });

  it('is optional for ListModels: empty is none, blank is no slide id', () => {
    expect(checkListModels({ slideId: '' })).toEqual({ slideId: undefined, mppOverride: undefined });
    expect(checkListModels({})).toEqual({ slideId: undefined, mppOverride: undefined });
    expect(refusal(() => checkListModels({ slideId: ' ' }))).toBe('slide_id is required');
  });
});

describe('the threshold', () => {
  it('is unset for the card default, else a float within 0.001..0.999', () => {
    expect(checkStreamTiles({ slideId: 'a.tif', tiles: TILE }).threshold).toBeUndefined();
    expect(checkStreamTiles({ slideId: 'a.tif', tiles: TILE, threshold: 0.75 }).threshold).toBe(0.75);
    // As it would arrive over the wire (a proto float), wherever it comes from.
    expect(checkScoreSlide({ slideId: 'a.tif', threshold: 0.999 }).threshold).toBe(Math.fround(0.999));
    expect(checkScoreSlide({ slideId: 'a.tif', threshold: 0.001 }).threshold).toBe(Math.fround(0.001));
    expect(refusal(() => checkStreamTiles({ slideId: 'a.tif', tiles: TILE, threshold: 1.5 }))).toBe(
      'threshold 1.5 is outside 0.001..0.999 (leave it unset for the default)',
    );
    expect(refusal(() => checkStreamTiles({ slideId: 'a.tif', tiles: TILE, threshold: 0 }))).toBe(
      'threshold 0 is outside 0.001..0.999 (leave it unset for the default)',
    );
    expect(refusal(() => checkScoreSlide({ slideId: 'a.tif', threshold: Number.NaN }))).toBe(
      'threshold must be a finite number, got NaN',
    );
  });
});

describe('mpp_override', () => {
  it('refuses implausible pixel sizes (0, negative, past 100 um/px) in every call that takes one', () => {
    for (const mppOverride of [0, -1, 500, Number.POSITIVE_INFINITY]) {
      for (const check of [
        () => checkListModels({ mppOverride }),
        () => checkStreamTiles({ slideId: 'a.tif', tiles: TILE, mppOverride }),
        () => checkScoreSlide({ slideId: 'a.tif', mppOverride }),
      ]) {
        expect(refusal(check)).toMatch(/^mpp_override /);
      }
    }
    expect(checkListModels({ mppOverride: 0.25 }).mppOverride).toBe(0.25);
  });
});

describe('StreamTiles', () => {
  it('needs at least one tile, each whole and non-negative', () => {
    expect(refusal(() => checkStreamTiles({ slideId: 'a.tif', tiles: [] }))).toBe('no tiles were requested');
    expect(
      refusal(() =>
        checkStreamTiles({
          slideId: 'a.tif',
          tiles: [
            { col: 0, row: 0 },
            { col: -1, row: 2 },
          ],
        }),
      ),
    ).toBe('tiles[1] (-1, 2) must have whole, non-negative col and row');
  });

  it('hands on what was asked, an empty model id as none', () => {
    expect(
      checkStreamTiles({
        slideId: 'a.tif',
        modelId: '',
        tiles: TILE,
        stainNormalization: 'off',
        includeBackground: true,
      }),
    ).toEqual({
      slideId: 'a.tif',
      modelId: undefined,
      tiles: TILE,
      mppOverride: undefined,
      threshold: undefined,
      stainNormalization: 'off',
      includeBackground: true,
    });
  });
});

describe('ScoreSlide', () => {
  it('takes an all-zero region for the whole slide and refuses an empty or unbounded one', () => {
    expect(checkScoreSlide({ slideId: 'a.tif', region: { x: 0, y: 0, width: 0, height: 0 } }).region).toBeUndefined();
    expect(refusal(() => checkScoreSlide({ slideId: 'a.tif', region: { x: 0, y: 0, width: -5, height: 10 } }))).toMatch(
      /^region -5 x 10 must have a positive/,
    );
    expect(
      refusal(() => checkScoreSlide({ slideId: 'a.tif', region: { x: 2 ** 31, y: 0, width: 5, height: 10 } })),
    ).toMatch(/^region.x .* beyond/);
  });

  it('checks the Dice grid and the ground-truth classes', () => {
    expect(refusal(() => checkScoreSlide({ slideId: 'a.tif', diceTileWidth: 0 }))).toMatch(
      /^dice_tile_width 0 must be whole pixels/,
    );
    const annotations = { content: '{}', format: 'geojson' as const, name: '', classes: [' Glomerulus '] };
    expect(checkScoreSlide({ slideId: 'a.tif', annotations }).annotations).toEqual({
      content: '{}',
      format: 'geojson',
      name: undefined,
      classes: ['Glomerulus'],
    });
    expect(
      refusal(() => checkScoreSlide({ slideId: 'a.tif', annotations: { ...annotations, classes: [''] } })),
    ).toMatch(/^annotations.truth_classes\[0\] is empty/);
  });
});

describe('viewer tiles', () => {
  it("need whole, non-negative level, column and row (which exist is the slide's to say)", () => {
    expect(checkViewerTile({ slideId: 'a.tif', level: 1, col: 2, row: 3 })).toEqual({
      slideId: 'a.tif',
      level: 1,
      col: 2,
      row: 3,
    });
    expect(refusal(() => checkViewerTile({ slideId: 'a.tif', level: -1, col: 0, row: 0 }))).toBe(
      'level -1 must be a whole, non-negative number',
    );
    expect(refusal(() => checkViewerTile({ slideId: 'a.tif', level: 0, col: 0.5, row: 0 }))).toBe(
      'col 0.5 must be a whole, non-negative number',
    );
  });
});
