/**
 * ScoreSlide on larger windows with the real model and the real eval region: the glomeruli found on 768-pixel
 * tiles (896-pixel windows, the same 64-pixel margin) are those found on the viewer's 256-pixel tiles, within what
 * the seam joining leaves: pixel Dice of one against the other >= 0.995, the same objects (F1 >= 0.98).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScoreSlide } from '@glomseg/api/server/request-checks.js';
import type { ScoreEvent, ScoreResult } from '@glomseg/shared/glomseg-service.js';
import { GlomsegApp } from '../../../server/src/app.js';
import { polygonAgreement } from '../../../server/src/bench/polygon-agreement.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';

const SLIDE = path.join(EVAL_REGION, 'kidney-region.tif');
const apps: Record<number, GlomsegApp> = {};

async function score(tileSize: number): Promise<{ result: ScoreResult; tilesTotal: number }> {
  const app = apps[tileSize];
  const [slide] = await app.service.listSlides();
  let result: ScoreResult | undefined;
  let tilesTotal = 0;
  const events: AsyncIterable<ScoreEvent> = app.service.scoreSlide(
    checkScoreSlide({ slideId: slide.id }),
    new AbortController().signal,
  );
  for await (const event of events) {
    if (event.kind === 'progress') tilesTotal = event.progress.tilesTotal;
    else result = event.result;
  }
  return { result: result!, tilesTotal };
}

beforeAll(async () => {
  for (const scoreTileSize of [256, 768]) {
    apps[scoreTileSize] = await GlomsegApp.start({
      slideFolders: [],
      slideFiles: [SLIDE],
      modelFolder: MODELS,
      httpPort: false,
      device: 'cpu',
      workers: 1,
      scoreTileSize,
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app.close()));
});

describe('ScoreSlide on larger windows', () => {
  it('finds the same glomeruli on 768-pixel tiles as on the 256-pixel grid (Dice >= 0.995)', async () => {
    const small = await score(256);
    const large = await score(768);
    // 1600 x 1200 model pixels: 7 x 5 tiles of 256, 3 x 2 of 768.
    expect(small.tilesTotal).toBe(35);
    expect(large.tilesTotal).toBe(6);
    expect(large.result.grid).toMatchObject({ tileSize: 768, margin: 64, tileSizeLevel0: 3072 });
    expect(small.result.polygons.length).toBeGreaterThan(20);
    const agreement = polygonAgreement(small.result.polygons, large.result.polygons, small.result.region);
    expect(agreement.dice).toBeGreaterThanOrEqual(0.995);
    expect(agreement.f1).toBeGreaterThanOrEqual(0.98);
  }, 300_000);
});
