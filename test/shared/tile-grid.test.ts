import { describe, expect, it } from 'vitest';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import {
  assertTileInGrid,
  minAreaOnSlide,
  planTileGrid,
  tileBounds,
  tileKey,
  tileReadWindow,
  tilesInRect,
} from '@glomseg/shared/tile-grid.js';

// The eval region's pyramid: 6400 x 4800 at 0.5 um/px, 5 levels halving each time.
function regionSlide(overrides: Partial<SlideMetadata> = {}): SlideMetadata {
  const levels = [0, 1, 2, 3, 4].map((index) => ({
    index,
    width: 6400 / 2 ** index,
    height: 4800 / 2 ** index,
    downsample: 2 ** index,
    tileWidth: 256,
    tileHeight: 256,
    synthesized: false,
  }));
  return {
    id: 'hubmap-vu/eval-region/kidney-region.tif',
    name: 'kidney-region',
    width: 6400,
    height: 4800,
    levels,
    tileWidth: 256,
    tileHeight: 256,
    mppX: 0.5,
    mppY: 0.5,
    mppSource: 'tiff-resolution',
    format: 'tiff',
    compression: 'jpeg',
    metadata: {},
    fileSize: 1,
    samplesPerPixel: 3,
    ...overrides,
  };
}

function card(overrides: Partial<ModelCard> = {}): ModelCard {
  return {
    id: 'unet',
    name: 'U-Net',
    description: '',
    file: 'unet.onnx',
    input: {
      name: 'input',
      layout: 'NCHW',
      channelOrder: 'RGB',
      scale: 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
    },
    output: { name: 'logits', kind: 'logits', channel: 0 },
    mpp: 2,
    downsample: 4,
    tileSize: 256,
    margin: 32,
    sizeMultiple: 32,
    threshold: 0.5,
    ...overrides,
  };
}

describe('planTileGrid', () => {
  it('works at the model scale from the slide pixel size and reads the matching pyramid level', () => {
    const grid = planTileGrid(regionSlide(), card());
    expect(grid.scale).toBe(4); // 2 um/px model on a 0.5 um/px slide
    expect(grid.level).toBe(2);
    expect(grid.levelDownsample).toBe(4);
    expect(grid.tileSizeLevel0).toBe(1024);
    expect([grid.cols, grid.rows]).toEqual([7, 5]); // 6400/1024 = 6.25, 4800/1024 = 4.69
    expect(grid.mppSource).toBe('file');
    expect(grid.mppAssumed).toBe(0.5);
  });

  it('picks the coarsest level not coarser than the scale', () => {
    const grid = planTileGrid(regionSlide(), card({ mpp: 1.5 })); // scale 3: level 1 (x2), not level 2 (x4)
    expect(grid.scale).toBe(3);
    expect(grid.level).toBe(1);
    expect(grid.levelDownsample).toBe(2);
  });

  it('finds the level by its index even when the levels are listed out of order', () => {
    const slide = regionSlide();
    slide.levels.reverse();
    const grid = planTileGrid(slide, card());
    expect(grid.level).toBe(2);
    expect(grid.levelDownsample).toBe(4);
  });

  it('prefers an mpp override, then falls back to the model training scale', () => {
    expect(planTileGrid(regionSlide(), card(), { mppOverride: 1 })).toMatchObject({
      scale: 2,
      mppSource: 'request',
      mppAssumed: 1,
      level: 1,
    });
    const unknown = regionSlide({ mppX: undefined, mppY: undefined, mppSource: '' });
    expect(planTileGrid(unknown, card())).toMatchObject({ scale: 4, mppSource: 'model-default', mppAssumed: 0.5 });
    expect(planTileGrid(unknown, card({ mpp: undefined, downsample: 2 }))).toMatchObject({ scale: 2, level: 1 });
  });

  it('keeps the minimum glomerulus area physical on slides scanned at another pixel size', () => {
    const model = card({ minArea: 1600 }); // level-0 px^2 of 0.5 um/px training tiles = 400 um^2
    expect(minAreaOnSlide(model, planTileGrid(regionSlide(), model))).toBe(1600);
    // 0.25 um/px (a 40x scan): each pixel is a quarter of the area, so four times as many pixels.
    expect(minAreaOnSlide(model, planTileGrid(regionSlide({ mppX: 0.25, mppY: 0.25 }), model))).toBe(6400);
    // The model's own scale (2 um/px): sixteen times fewer pixels.
    expect(minAreaOnSlide(model, planTileGrid(regionSlide(), model, { mppOverride: 2 }))).toBe(100);
    expect(minAreaOnSlide(card(), planTileGrid(regionSlide(), card()))).toBe(0);
    const noDownsample = card({ minArea: 1600, downsample: undefined });
    expect(minAreaOnSlide(noDownsample, planTileGrid(regionSlide({ mppX: 0.25 }), noDownsample))).toBe(1600);
  });

  // Implausible overrides are the request's to refuse (test/api/server/request-checks.test.ts).
  it('rejects models without a scale', () => {
    expect(() => planTileGrid(regionSlide(), card({ mpp: undefined, downsample: undefined }))).toThrowError(
      /neither mpp nor downsample/,
    );
    const unknown = regionSlide({ mppX: undefined });
    expect(() => planTileGrid(unknown, card({ downsample: undefined }))).toThrowError(/mpp override/);
  });
});

describe('tile geometry', () => {
  const grid = planTileGrid(regionSlide(), card());

  it('clips edge tiles to the slide', () => {
    expect(tileBounds(grid, { col: 0, row: 0 })).toEqual({ x: 0, y: 0, width: 1024, height: 1024 });
    expect(tileBounds(grid, { col: 6, row: 4 })).toEqual({ x: 6144, y: 4096, width: 256, height: 704 });
  });

  it('reads each tile with its margin, padded to the size multiple', () => {
    expect(tileReadWindow(grid, { col: 1, row: 1 })).toEqual({
      level: 2,
      x: 224,
      y: 224,
      width: 320,
      height: 320,
      modelWidth: 320,
      modelHeight: 320,
      keepX: 32,
      keepY: 32,
      keepWidth: 256,
      keepHeight: 256,
    });
  });

  it('stops the window at the slide edge and reaches inward instead of reading past it', () => {
    // Top-left tile: nothing above or left of the slide is read; the window grows right and down to 288.
    expect(tileReadWindow(grid, { col: 0, row: 0 })).toEqual({
      level: 2,
      x: 0,
      y: 0,
      width: 288,
      height: 288,
      modelWidth: 288,
      modelHeight: 288,
      keepX: 0,
      keepY: 0,
      keepWidth: 256,
      keepHeight: 256,
    });
    // Corner tile: 64 x 176 kept model pixels of a 1600 x 1200 level. Across: 32 of margin + 64 = 96, a multiple
    // of 32 ending at the edge. Down: 32 + 176 = 208, rounded to 224 by reaching 16 more pixels up.
    expect(tileReadWindow(grid, { col: 6, row: 4 })).toEqual({
      level: 2,
      x: 1504,
      y: 976,
      width: 96,
      height: 224,
      modelWidth: 96,
      modelHeight: 224,
      keepX: 32,
      keepY: 48,
      keepWidth: 64,
      keepHeight: 176,
    });
    for (let col = 0; col < grid.cols; col++) {
      for (let row = 0; row < grid.rows; row++) {
        const w = tileReadWindow(grid, { col, row });
        expect(w.x).toBeGreaterThanOrEqual(0);
        expect(w.y).toBeGreaterThanOrEqual(0);
        expect(w.x + w.width).toBeLessThanOrEqual(1600);
        expect(w.y + w.height).toBeLessThanOrEqual(1200);
        expect(w.modelWidth % 32).toBe(0);
        expect(w.keepX + w.keepWidth).toBeLessThanOrEqual(w.modelWidth);
        expect(w.keepY + w.keepHeight).toBeLessThanOrEqual(w.modelHeight);
      }
    }
  });

  it('reads past the edge only for a slide smaller than one size multiple', () => {
    const tiny = planTileGrid(
      regionSlide({
        width: 80,
        height: 40,
        levels: [
          { index: 0, width: 80, height: 40, downsample: 1, tileWidth: 256, tileHeight: 256, synthesized: false },
        ],
      }),
      card(),
    );
    expect(tileReadWindow(tiny, { col: 0, row: 0 })).toMatchObject({
      x: 0,
      y: 0,
      modelWidth: 32,
      modelHeight: 32,
      keepWidth: 20,
      keepHeight: 10,
    });
  });

  it('scales the window to level pixels when the level is finer than the model', () => {
    const fine = planTileGrid(regionSlide(), card({ mpp: 1.5 })); // 1.5 level-1 pixels per model pixel
    const window = tileReadWindow(fine, { col: 1, row: 0 });
    expect(window).toMatchObject({
      level: 1,
      x: Math.round((256 - 32) * 1.5),
      y: 0,
      width: 480,
      height: 432,
      modelWidth: 320,
      modelHeight: 288,
    });
  });

  it('lists the tiles over a rectangle, nearest the centre first', () => {
    const tiles = tilesInRect(grid, { x: 1000, y: 1000, width: 100, height: 100 });
    expect(tiles.map(tileKey)).toEqual(['1,1', '1,0', '0,1', '0,0']);
    expect(tilesInRect(grid, { x: 0, y: 0, width: 6400, height: 4800 })).toHaveLength(35);
    // Inside the last column's nominal cell but past the slide's right edge (6400): no tile.
    expect(tilesInRect(grid, { x: 7000, y: 0, width: 10, height: 10 })).toEqual([]);
    expect(tilesInRect(grid, { x: 6399, y: 4799, width: 10, height: 10 }).map(tileKey)).toEqual(['6,4']);
    expect(tilesInRect(grid, { x: 10, y: 10, width: 0, height: 10 })).toEqual([]);
  });

  it('rejects tiles outside the grid', () => {
    expect(() => assertTileInGrid(grid, { col: 6, row: 4 })).not.toThrow();
    expect(() => assertTileInGrid(grid, { col: 7, row: 0 })).toThrowError(/outside the model grid of 7 x 5/);
    expect(() => assertTileInGrid(grid, { col: 0.5, row: 0 })).toThrowError(GlomsegError);
  });
});
