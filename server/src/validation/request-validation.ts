/**
 * The request budgets that depend on the slide (tiles, Dice grid), checked once the grid is known, still before
 * inference. Field checks that need no slide are api/src/request-fields.ts.
 */
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { Rect } from '@glomseg/shared/geometry.js';
import type { ServingLimits } from './limits.js';

/** Too many model tiles for one request (a region to score, or a list to stream): RESOURCE_EXHAUSTED, with what would fit. */
export function assertTileBudget(
  tiles: number,
  limits: Pick<ServingLimits, 'maxTilesPerRequest'>,
  what: string,
  advice = 'score a smaller region, or check mpp_override',
): void {
  if (tiles > limits.maxTilesPerRequest) {
    throw new GlomsegError('RESOURCE_EXHAUSTED', `${what} is ${tiles} model tiles; one request may cover at most ${limits.maxTilesPerRequest} (${advice})`);
  }
}

/** The mean-per-tile Dice grid over `region`, bounded in cells and cell size before any scoring. */
export function assertDiceGrid(region: Rect, tileWidth: number, tileHeight: number, limits: Pick<ServingLimits, 'maxDiceCells' | 'maxDiceCellPixels'>): void {
  // A cell is never larger than the region, so only the part inside it costs memory.
  const cellPixels = Math.min(tileWidth, Math.ceil(region.width)) * Math.min(tileHeight, Math.ceil(region.height));
  if (cellPixels > limits.maxDiceCellPixels) {
    throw new GlomsegError('RESOURCE_EXHAUSTED', `a Dice cell of ${tileWidth} x ${tileHeight} pixels is above ${limits.maxDiceCellPixels} pixels`);
  }
  const cells = Math.ceil(region.width / tileWidth) * Math.ceil(region.height / tileHeight);
  if (cells > limits.maxDiceCells) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `a ${tileWidth} x ${tileHeight} Dice grid over a ${Math.ceil(region.width)} x ${Math.ceil(region.height)} region has ${cells} cells; at most ${limits.maxDiceCells}`,
    );
  }
}
