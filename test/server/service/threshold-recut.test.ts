/**
 * A new threshold on tiles the server has already run: cut again from the kept probabilities, not re-inferred, and
 * the same polygons as a server that ran the model at that threshold. Real model, real slide.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlomsegApp } from '../../../server/src/app.js';
import type { TileOutcome } from '@glomseg/shared/glomseg-service.js';
import { checkStreamTiles } from '@glomseg/api/server/request-checks.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';

const SLIDE = 'kidney-region.tif';
const TILES = [
  { col: 2, row: 1 },
  { col: 3, row: 1 },
  { col: 2, row: 2 },
  { col: 3, row: 2 },
];

async function stream(app: GlomsegApp, threshold: number): Promise<TileOutcome[]> {
  const out: TileOutcome[] = [];
  for await (const outcome of app.service.streamTiles(
    checkStreamTiles({ slideId: SLIDE, tiles: TILES, threshold, mppOverride: 0.5 }),
    new AbortController().signal,
  ))
    out.push(outcome);
  return out.sort((a, b) => a.requestIndex - b.requestIndex);
}

let app: GlomsegApp;
let fresh: GlomsegApp;
beforeAll(async () => {
  const options = {
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: false as const,
    device: 'cpu' as const,
  };
  [app, fresh] = await Promise.all([GlomsegApp.start(options), GlomsegApp.start(options)]);
}, 120_000);
afterAll(async () => {
  await app?.close();
  await fresh?.close();
});

describe('a threshold change', () => {
  it('re-cuts cached probabilities without running the model, giving what the model gives at that threshold', async () => {
    await stream(app, 0.9);
    const before = app.service.stats();
    const recut = await stream(app, 0.5);
    const after = app.service.stats();
    expect(after.tilesComputed - before.tilesComputed).toBe(0);
    expect(after.tilesRecut - before.tilesRecut).toBe(TILES.length);
    expect(recut.every((t) => t.cached && t.timings.inferenceMs === 0)).toBe(true);

    const computed = await stream(fresh, 0.5);
    expect(fresh.service.stats().tilesComputed).toBe(TILES.length);
    expect(recut.map((t) => t.polygons)).toEqual(computed.map((t) => t.polygons));
    expect(recut.flatMap((t) => t.polygons).length).toBeGreaterThan(0);
    // The tiles' tissue share comes along with the re-cut (the region is mostly tissue).
    expect(recut.map((t) => t.tissueFraction)).toEqual(computed.map((t) => t.tissueFraction));
    expect(recut.every((t) => t.tissueFraction! > 0.3 && t.tissueFraction! <= 1)).toBe(true);
  }, 120_000);
});
