/**
 * The reviewed regions as training/adapt.py reads them: each region's box cut from its slide through the product's
 * slide sources, at the model's pixel size on that slide (the same grid, level and resampling the service infers
 * on), written as a PNG, with its glomeruli and reviewed outline in crop pixels and the slide's stain statistics,
 * listed in a JSON manifest (format: the header of training/adapt.py).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { outlineBounds, type ReviewedRegion } from '@glomseg/shared/adaptation.js';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import type { Polygon, Rect, Ring } from '@glomseg/shared/geometry.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import type { LabStatistics } from '@glomseg/shared/stain-normalization.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import { resizeRgb } from '../service/resample.js';

/** adapt.py's smallest crop edge, in model pixels: smaller regions are cut with context around them. */
const MIN_CROP_EDGE = 32;

/** What cutting needs of the slides: a source, the model's grid on it (the product's scale choice), its stain. */
export interface CropSlides {
  open(slideId: string, signal: AbortSignal): Promise<SlideSource>;
  gridOf(slideId: string, card: ModelCard, signal: AbortSignal, mppOverride?: number): Promise<TileGrid>;
  stainOf(slideId: string, signal: AbortSignal): Promise<LabStatistics | undefined>;
}

interface ManifestRegion {
  id: string;
  slide: string;
  image: string;
  glomeruli: number[][][][];
  reviewed: number[][][];
  stain?: { mean: number[]; std: number[] };
}

/** Writes the crops and `manifest.json` into `folder`; returns the manifest's path. */
export async function writeRegionCrops(
  slides: CropSlides,
  card: ModelCard,
  regions: readonly ReviewedRegion[],
  folder: string,
  signal: AbortSignal,
  mppOverride?: number,
  onRegion: (done: number, total: number) => void = () => undefined,
): Promise<string> {
  const grids = new Map<string, TileGrid>();
  const stains = new Map<string, LabStatistics | undefined>();
  const entries: ManifestRegion[] = [];
  for (const [index, region] of regions.entries()) {
    throwIfAborted(signal);
    const { slideId } = region;
    if (!grids.has(slideId)) {
      grids.set(slideId, await slides.gridOf(slideId, card, signal, mppOverride));
      stains.set(slideId, await slides.stainOf(slideId, signal));
    }
    const grid = grids.get(slideId)!;
    const box = cropBox(outlineBounds(region.outline), grid);
    const image = `region-${index}.png`;
    await writeCrop(await slides.open(slideId, signal), grid, box, path.join(folder, image), signal);
    const toCrop = (ring: Ring) => ring.map(([x, y]) => [(x - box.x) / grid.scale, (y - box.y) / grid.scale]);
    const rings = (p: Polygon) => [toCrop(p.exterior), ...p.holes.map(toCrop)];
    const stain = stains.get(slideId);
    entries.push({
      id: region.id,
      slide: slideId,
      image,
      glomeruli: region.glomeruli.map(rings),
      reviewed: rings(region.outline),
      ...(stain && { stain: { mean: [...stain.mean], std: [...stain.std] } }),
    });
    onRegion(index + 1, regions.length);
  }
  const manifest = path.join(folder, 'manifest.json');
  await writeFile(manifest, JSON.stringify({ ...(card.mpp !== undefined && { mpp: card.mpp }), regions: entries }));
  return manifest;
}

/** The region's box grown to the smallest crop adapt.py takes (centred) and kept on the slide, in whole pixels. */
function cropBox(box: Rect, grid: TileGrid): Rect {
  const minEdge = MIN_CROP_EDGE * grid.scale;
  const grow = (start: number, size: number, extent: number) => {
    const want = Math.min(Math.max(size, minEdge), extent);
    const lo = Math.max(0, Math.min(start - (want - size) / 2, extent - want));
    return [Math.floor(lo), Math.ceil(lo + want)] as const;
  };
  const [x0, x1] = grow(box.x, box.width, grid.slideWidth);
  const [y0, y1] = grow(box.y, box.height, grid.slideHeight);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Reads the box at the grid's level and resamples it to model pixels, as the tile pipeline does. */
async function writeCrop(source: SlideSource, grid: TileGrid, box: Rect, file: string, signal: AbortSignal) {
  const factor = grid.levelDownsample;
  const x = Math.floor(box.x / factor);
  const y = Math.floor(box.y / factor);
  const read = await source.readRegion(
    {
      level: grid.level,
      x,
      y,
      width: Math.max(1, Math.ceil((box.x + box.width) / factor) - x),
      height: Math.max(1, Math.ceil((box.y + box.height) / factor) - y),
    },
    signal,
  );
  const width = Math.max(MIN_CROP_EDGE, Math.round(box.width / grid.scale));
  const height = Math.max(MIN_CROP_EDGE, Math.round(box.height / grid.scale));
  const image = await resizeRgb(read, width, height);
  await sharp(image.data, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
}
