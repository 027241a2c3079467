/**
 * Runs the scale trials of shared/scale-estimate on a slide: the model on the same few tissue tiles' worth of slide
 * at each candidate pixel size. The tiles are ranked by the tissue they hold on the slide survey's tissue map; without
 * one (a slide too large to map whole), the first tiles are tried.
 */
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { Segmenter } from '@glomseg/shared/segmenter.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import {
  CANDIDATE_MPPS,
  TRIAL_TILES,
  objectSureness,
  pickScale,
  type ScaleEstimate,
  type ScaleTrial,
} from '@glomseg/shared/scale-estimate.js';
import {
  minAreaOnSlide,
  planTileGrid,
  tileBounds,
  tilesInRect,
  type TileAddress,
  type TileGrid,
} from '@glomseg/shared/tile-grid.js';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import { tissueShareIn, type TissueMap } from '@glomseg/shared/tissue-mask.js';
import { predictTile } from './tile-pipeline.js';

/** The trial tiles of one candidate grid: most tissue first, else nearest the centre. */
function trialTiles(grid: TileGrid, map: TissueMap | undefined): TileAddress[] {
  const all = tilesInRect(grid, { x: 0, y: 0, width: grid.slideWidth, height: grid.slideHeight });
  if (!map) return all.slice(0, TRIAL_TILES);
  return all
    .map((tile) => ({ tile, share: tissueShareIn(map, tileBounds(grid, tile)) }))
    .sort((a, b) => b.share - a.share)
    .slice(0, TRIAL_TILES)
    .map((entry) => entry.tile);
}

export async function estimateSlideScale(
  source: SlideSource,
  card: ModelCard,
  segmenter: Segmenter,
  map: TissueMap | undefined,
  signal: AbortSignal,
): Promise<ScaleEstimate> {
  const trials: ScaleTrial[] = [];
  for (const mpp of CANDIDATE_MPPS) {
    const grid = planTileGrid(source.metadata, card, { mppOverride: mpp });
    const tiles = trialTiles(grid, map);
    const minArea = minAreaOnSlide(card, grid);
    let sureness = 0;
    for (const tile of tiles) {
      throwIfAborted(signal);
      const result = await predictTile(
        { source, grid, tile, segmenter, cut: { threshold: card.threshold, minArea } },
        signal,
      );
      // Tiles keep small pieces at their edges for joining; alone, they are no evidence of a glomerulus.
      for (const polygon of result.polygons)
        if (polygon.area >= minArea) sureness += objectSureness(polygon.meanProbability, polygon.area * mpp * mpp);
    }
    trials.push({ mpp, tiles: tiles.length, sureness });
  }
  return pickScale(trials);
}
