/** The bench's slide: the one given or a generated BigTIFF, and one real tile of it at the served input size. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { planTileGrid, tileReadWindow } from '@glomseg/shared/tile-grid.js';
import { GeoTiffSlideSource } from '../slides/geotiff-slide-source.js';
import { resizeRgb } from '../service/resample.js';
import { DEFAULT_BENCH_FOLDER } from './bench-paths.js';
import { REPO_ROOT } from '../repo-paths.mjs';
import { log } from './bench-log.js';

const MAKE_LARGE_SLIDE = path.join(REPO_ROOT, 'server/src/bench/make-large-slide.ts');

export interface BenchSlide {
  path: string;
  generated?: object;
}

/** The generated slide to use when none is given: made (in a child process, to measure it alone) when missing. */
export async function ensureSlide(options: { slide?: string; size?: number; quick: boolean }): Promise<BenchSlide> {
  if (options.slide) {
    if (!existsSync(options.slide)) throw new Error(`no such slide file: ${options.slide}`);
    return { path: path.resolve(options.slide) };
  }
  const size = options.size ?? (options.quick ? 16_384 : 61_440);
  const file = path.join(DEFAULT_BENCH_FOLDER, `large-${size}.tif`);
  if (existsSync(file)) return { path: file };
  log(`generating ${size} x ${size} BigTIFF at ${file} (mirror-tiled eval region; a minute or more per 60k)`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', MAKE_LARGE_SLIDE, '--size', String(size), '--out', file],
    {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 20,
    },
  );
  return { path: file, generated: JSON.parse(stdout.trim().split('\n').pop()!) };
}

/** One real tile at the served input size, read and resized exactly as the service does, and what the slide is. */
export async function sampleTile(slide: BenchSlide, card: ModelCard, mpp: number | undefined) {
  const source = await GeoTiffSlideSource.open(slide.path, path.basename(slide.path));
  const localGrid = planTileGrid(source.metadata, card, { mppOverride: mpp });
  const centre = { col: Math.floor(localGrid.cols / 2), row: Math.floor(localGrid.rows / 2) };
  const window = tileReadWindow(localGrid, centre);
  const tileImage = await resizeRgb(await source.readRegion(window), window.modelWidth, window.modelHeight);
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
