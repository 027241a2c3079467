/**
 * Runs the scale trials of shared/scale-estimate on a slide: the model on the same few tissue tiles' worth of slide
 * at each candidate pixel size. Tissue is found on the coarsest pyramid level (not white, not grey).
 */
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { Segmenter } from '@glomseg/shared/segmenter.js';
import type { RgbImage, SlideSource } from '@glomseg/shared/slide-source.js';
import { CANDIDATE_MPPS, TRIAL_TILES, objectSureness, pickScale, type ScaleEstimate, type ScaleTrial } from '@glomseg/shared/scale-estimate.js';
import { minAreaOnSlide, planTileGrid, tileBounds, tilesInRect, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import { isTissue } from '@glomseg/shared/tissue-mask.js';
import { predictTile } from './tile-pipeline.js';

/** A coarsest level larger than this is not read whole for the tissue map: trial tiles come from the centre. */
const MAX_TISSUE_MAP_PIXELS = 4_000_000;

interface TissueMap {
  image: RgbImage;
  /** Level-0 pixels per tissue-map pixel. */
  downsample: number;
}

async function readTissueMap(source: SlideSource, signal: AbortSignal): Promise<TissueMap | undefined> {
  const coarsest = [...source.metadata.levels].sort((a, b) => b.downsample - a.downsample)[0];
  if (!coarsest || coarsest.width * coarsest.height > MAX_TISSUE_MAP_PIXELS) return undefined;
  const image = await source.readRegion({ level: coarsest.index, x: 0, y: 0, width: coarsest.width, height: coarsest.height }, signal);
  return { image, downsample: coarsest.downsample };
}

/** Share of a tile's pixels that are stained tissue: coloured or dark, not the slide's white or grey background. */
function tissueShare(map: TissueMap, grid: TileGrid, tile: TileAddress): number {
  const b = tileBounds(grid, tile);
  const { image, downsample } = map;
  const x0 = Math.floor(b.x / downsample);
  const y0 = Math.floor(b.y / downsample);
  const x1 = Math.min(image.width, Math.ceil((b.x + b.width) / downsample));
  const y1 = Math.min(image.height, Math.ceil((b.y + b.height) / downsample));
  let tissue = 0;
  let all = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 3;
      if (isTissue(image.data[i], image.data[i + 1], image.data[i + 2])) tissue++;
      all++;
    }
  }
  return all > 0 ? tissue / all : 0;
}

/** The trial tiles of one candidate grid: most tissue first, else nearest the centre. */
function trialTiles(grid: TileGrid, map: TissueMap | undefined): TileAddress[] {
  const all = tilesInRect(grid, { x: 0, y: 0, width: grid.slideWidth, height: grid.slideHeight });
  if (!map) return all.slice(0, TRIAL_TILES);
  return all
    .map((tile) => ({ tile, share: tissueShare(map, grid, tile) }))
    .sort((a, b) => b.share - a.share)
    .slice(0, TRIAL_TILES)
    .map((entry) => entry.tile);
}

export async function estimateSlideScale(
  source: SlideSource,
  card: ModelCard,
  segmenter: Segmenter,
  signal: AbortSignal,
): Promise<ScaleEstimate> {
  const map = await readTissueMap(source, signal);
  const trials: ScaleTrial[] = [];
  for (const mpp of CANDIDATE_MPPS) {
    const grid = planTileGrid(source.metadata, card, { mppOverride: mpp });
    const tiles = trialTiles(grid, map);
    const minArea = minAreaOnSlide(card, grid);
    let sureness = 0;
    for (const tile of tiles) {
      throwIfAborted(signal);
      const result = await predictTile({ source, grid, tile, segmenter, threshold: card.threshold, minArea }, signal);
      for (const polygon of result.polygons) sureness += objectSureness(polygon.meanProbability, polygon.area * mpp * mpp);
    }
    trials.push({ mpp, tiles: tiles.length, sureness });
  }
  return pickScale(trials);
}
