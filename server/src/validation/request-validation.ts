/**
 * The request bounds that depend on the slide (region, tiles, Dice grid), checked once the grid is known, still
 * before inference. Field checks that need no slide are api/src/server/request-fields.ts.
 */
import { GlomsegError } from '@glomseg/shared/errors.js';
import { intersectRects, type Rect } from '@glomseg/shared/geometry.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import type { ServingLimits } from './limits.js';

/** The part of a (checked) region on the slide, unset being the whole slide; one wholly off it is INVALID_ARGUMENT. */
export function regionOnSlide(region: Rect | undefined, grid: Pick<TileGrid, 'slideWidth' | 'slideHeight'>): Rect {
  const slide = { x: 0, y: 0, width: grid.slideWidth, height: grid.slideHeight };
  if (!region) return slide;
  const clipped = intersectRects(region, slide);
  if (!clipped)
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `region ${JSON.stringify(region)} lies outside the ${grid.slideWidth} x ${grid.slideHeight} slide`,
    );
  return clipped;
}

/** Too many model tiles for one request (a region to score, or a list to stream): RESOURCE_EXHAUSTED, with what would fit. */
export function assertTileBudget(
  tiles: number,
  limits: Pick<ServingLimits, 'maxTilesPerRequest'>,
  what: string,
  advice = 'score a smaller region, or check mpp_override',
): void {
  if (tiles > limits.maxTilesPerRequest) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `${what} is ${tiles} model tiles; one request may cover at most ${limits.maxTilesPerRequest} (${advice})`,
    );
  }
}

/** The mean-per-tile Dice grid over `region`, bounded in cells and cell size before any scoring. */
export function assertDiceGrid(
  region: Rect,
  tileWidth: number,
  tileHeight: number,
  limits: Pick<ServingLimits, 'maxDiceCells' | 'maxDiceCellPixels'>,
): void {
  // A cell is never larger than the region, so only the part inside it costs memory.
  const cellPixels = Math.min(tileWidth, Math.ceil(region.width)) * Math.min(tileHeight, Math.ceil(region.height));
  if (cellPixels > limits.maxDiceCellPixels) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `a Dice cell of ${tileWidth} x ${tileHeight} pixels is above ${limits.maxDiceCellPixels} pixels`,
    );
  }
  const cells = Math.ceil(region.width / tileWidth) * Math.ceil(region.height / tileHeight);
  if (cells > limits.maxDiceCells) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `a ${tileWidth} x ${tileHeight} Dice grid over a ${Math.ceil(region.width)} x ${Math.ceil(region.height)} region has ${cells} cells; at most ${limits.maxDiceCells}`,
    );
  }
}
