/** The bench's slide: the one given or a generated BigTIFF, and one real tile of it at the served input size. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { planTileGrid, tileReadWindow } from '@glomseg/shared/tile-grid.js';
import { GeoTiffSlideSource } from '../slides/geotiff-slide-source.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { resizeRgb, transformRgb } from '../service/resample.js';
import { servedInputSize } from './raw-throughput.js';
import { DEFAULT_BENCH_FOLDER } from './bench-paths.js';
import { REPO_ROOT } from '../repo-paths.mjs';
import { log } from './bench-log.js';

const MAKE_LARGE_SLIDE = path.join(REPO_ROOT, 'server/src/bench/make-large-slide.ts');

export interface BenchSlide {
  path: string;
  generated?: object;
}

/** The generated slide to use when none is given: made (in a child process, to measure it alone) when missing. */
export async function ensureSlide(options: {
  slide?: string;
  size?: number;
  quick: boolean;
  halfGlass?: boolean;
}): Promise<BenchSlide> {
  if (options.slide) {
    if (!existsSync(options.slide)) throw new Error(`no such slide file: ${options.slide}`);
    return { path: path.resolve(options.slide) };
  }
  const size = options.size ?? (options.quick ? 16_384 : 61_440);
  // Half glass: tissue (the mirror-tiled eval region) on the left half of the columns, white glass on the right.
  const file = path.join(DEFAULT_BENCH_FOLDER, `large-${options.halfGlass ? 'half-glass-' : ''}${size}.tif`);
  if (existsSync(file)) return { path: file };
  log(`generating ${size} x ${size} BigTIFF at ${file} (mirror-tiled eval region; a minute or more per 60k)`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      MAKE_LARGE_SLIDE,
      '--size',
      String(size),
      '--out',
      file,
      ...(options.halfGlass ? ['--half-glass'] : []),
    ],
    {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 20,
    },
  );
  return { path: file, generated: JSON.parse(stdout.trim().split('\n').pop()!) };
}

async function toServedSize(image: RgbImage, size: number): Promise<RgbImage> {
  if (image.width >= size && image.height >= size) return image;
  return transformRgb(image, (pipeline) =>
    pipeline.extend({
      right: Math.max(0, size - image.width),
      bottom: Math.max(0, size - image.height),
      extendWith: 'mirror',
    }),
  );
}

/** One real tile at the served input size, read and resized exactly as the service does, and what the slide is. */
export async function sampleTile(slide: BenchSlide, card: ModelCard, mpp: number | undefined) {
  const source = await GeoTiffSlideSource.open(slide.path, path.basename(slide.path));
  const localGrid = planTileGrid(source.metadata, card, { mppOverride: mpp });
  const centre = { col: Math.floor(localGrid.cols / 2), row: Math.floor(localGrid.rows / 2) };
  const window = tileReadWindow(localGrid, centre);
  const read = await resizeRgb(await source.readRegion(window), window.modelWidth, window.modelHeight);
  // Raw throughput is of the served window (tile + margins): a window cut short by a small slide's edge is mirrored
  // out to it, so the raw figure's kept pixels (tileSize²) are what the model computes around them.
  const tileImage = await toServedSize(read, servedInputSize(card));
  const slideInfo = {
    path: slide.path,
    width: source.metadata.width,
    height: source.metadata.height,
    format: source.metadata.format,
    compression: source.metadata.compression,
    tileSize: source.metadata.tileWidth,
    levels: source.metadata.levels.length,
    mpp: source.metadata.mppX,
    mppSource: source.metadata.mppSource,
    fileBytes: source.metadata.fileSize,
    generated: slide.generated,
  };
  await source.close();
  return { tileImage, slideInfo };
}
