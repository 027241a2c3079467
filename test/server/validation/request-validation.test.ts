/**
 * The per-request tile budget over real gRPC: a StreamTiles list over maxTilesPerRequest is RESOURCE_EXHAUSTED,
 * as the README and limits.ts promise (the same status ScoreSlide gives a region over it), refused before the slide
 * is read or a tile computed.
 */
import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_LIMITS } from '../../../server/src/validation/limits.js';
import { collect, statusOf } from '../../helpers/grpc.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const SLIDE = 'kidney-region.tif';
const served = useGrpcApp();

describe('the tile budget of StreamTiles', () => {
  it(`refuses ${DEFAULT_LIMITS.maxTilesPerRequest + 1} tiles with RESOURCE_EXHAUSTED before any work`, async () => {
    const tiles = Array.from({ length: DEFAULT_LIMITS.maxTilesPerRequest + 1 }, (_, i) => ({
      col: i % 100,
      row: Math.floor(i / 100),
    }));
    const before = served.app.service.stats().tilesComputed;
    const status = await statusOf(collect(served.client.streamTiles({ slideId: SLIDE, tiles })));
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/the tile list is 20001 model tiles; one request may cover at most 20000/);
    expect(served.app.service.stats().tilesComputed).toBe(before);
  });

  it('refuses the list even for a slide that does not exist: the count is checked first', async () => {
    const tiles = Array.from({ length: DEFAULT_LIMITS.maxTilesPerRequest + 1 }, () => ({ col: 0, row: 0 }));
    const status = await statusOf(collect(served.client.streamTiles({ slideId: 'no-such-slide.tif', tiles })));
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('serves a list at the budget (one tile, to keep it short) and the next call', async () => {
    const results = await collect(served.client.streamTiles({ slideId: SLIDE, tiles: [{ col: 0, row: 0 }] }));
    expect(results).toHaveLength(1);
  });
});
