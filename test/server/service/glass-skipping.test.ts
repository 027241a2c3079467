/**
 * Glass costs nothing: ScoreSlide of a real pyramidal slide that is half tissue (the eval region, mirror-tiled) and
 * half white glass, with the real model, reads, decodes and queues only the tiles with tissue. Reads are counted
 * where they reach the real slide file (a SlideSource decorator over the TIFF reader: a region read decodes just the
 * stored tiles it covers), queued tiles in the service's scheduler.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScoreSlide } from '@glomseg/api/server/request-checks.js';
import type { ScoreProgress, ScoreResult } from '@glomseg/shared/glomseg-service.js';
import type { RegionRequest, SlideSource } from '@glomseg/shared/slide-source.js';
import { makeLargeSlide } from '../../../server/src/bench/large-slide.js';
import { ModelRegistry } from '../../../server/src/inference/model-registry.js';
import { OnnxModelProvider } from '../../../server/src/inference/model-provider.js';
import { ScoringPool } from '../../../server/src/scoring/scoring-pool.js';
import { createGlomsegService, type DomainGlomsegService } from '../../../server/src/service/glomseg-service.js';
import { openSlideFile } from '../../../server/src/slides/index.js';
import { MODELS } from '../../helpers/paths.js';
import { kidneyRegionQuarter } from '../slides/test-data.js';

// 4096 x 2048 at 2 um/px (the model's scale: level 0 is read): tissue in x < 2048, glass beyond.
const WIDTH = 4096;
const TISSUE_WIDTH = 2048;
let folder: string;
let source: SlideSource;
const reads: RegionRequest[] = [];
let service: DomainGlomsegService;
let scoring: ScoringPool;
let models: OnnxModelProvider;

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-glass-'));
  const slide = path.join(folder, 'half-glass.tif');
  await makeLargeSlide({
    source: kidneyRegionQuarter,
    out: slide,
    width: WIDTH,
    height: 2048,
    mpp: 2,
    surround: 'half-glass',
  });
  source = await openSlideFile(slide, 'half-glass.tif');
  const counting: SlideSource = {
    metadata: source.metadata,
    readRegion: (region, signal) => {
      reads.push(region);
      return source.readRegion(region, signal);
    },
    close: async () => {},
  };
  models = new OnnxModelProvider({ registry: await ModelRegistry.load({ folder: MODELS }), device: 'cpu', workers: 1 });
  scoring = await ScoringPool.create({ maxTaskMs: 60_000 });
  service = createGlomsegService({
    slides: { list: async () => [], open: async () => counting },
    models,
    scoring,
    scoreTileSize: 512,
  });
}, 180_000);

afterAll(async () => {
  await service?.close();
  await scoring?.close();
  await models?.dispose();
  await source?.close();
  await rm(folder, { recursive: true, force: true });
});

describe('glass costs nothing', () => {
  it('scores a half-glass slide reading, decoding and queueing only the tissue tiles at full resolution', async () => {
    let last: ScoreProgress | undefined;
    let result: ScoreResult | undefined;
    const request = checkScoreSlide({ slideId: 'half-glass.tif' });
    for await (const event of service.scoreSlide(request, new AbortController().signal)) {
      if (event.kind === 'progress') last = event.progress;
      else result = event.result;
    }
    const { grid } = result!;
    expect(grid).toMatchObject({ level: 0, tileSize: 512, cols: 8, rows: 4 });
    // Columns 0-3 of 512 are tissue, 4-7 glass. Column 4 touches the tissue within the map's one pixel of slack
    // (tissue-mask.ts tissueIn: the survey's map is coarse) and is read; columns 5-7 never are.
    expect(last!.tilesSkipped).toBeGreaterThanOrEqual(12);
    const inferred = last!.tilesDone - last!.tilesSkipped;
    const full = reads.filter((r) => r.level === grid.level);
    // One full-resolution read per inferred tile, each window meeting the tissue half: none is of bare glass.
    expect(full).toHaveLength(inferred);
    expect(full.every((r) => r.x < TISSUE_WIDTH)).toBe(true);
    expect(full.every((r) => r.x + r.width <= TISSUE_WIDTH + 512 + grid.margin)).toBe(true);
    // What went to the model is what was read: the scheduler ran exactly the inferred tiles.
    expect(service.stats().scheduler.completed).toBe(inferred);
    // Everything else read was the survey's low-resolution view.
    expect(
      reads.filter((r) => r.level !== grid.level).every((r) => source.metadata.levels[r.level].downsample >= 4),
    ).toBe(true);
    expect(result!.polygons.length).toBeGreaterThan(5);
  }, 300_000);
});
