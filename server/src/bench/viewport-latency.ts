/** Viewport latency: StreamTiles for the model tiles under a 1920 x 1080 level-0 viewport, first and last tile. */
import { tilesInRect, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { streamTilesRequestToProto } from '@glomseg/api/client/to-proto.js';
import type { GlomsegConnection } from '../client/grpc-client.js';
import { log } from './bench-log.js';

const VIEWPORT = { width: 1920, height: 1080 };

/**
 * Viewports at distinct, not yet computed places of the slide, each off the tile grid so it touches 3 x 2 (or more)
 * model tiles, requested centre first as the viewer does. They use a threshold 0.001 above the card's, so their
 * tiles do not pre-fill the result cache that ScoreSlide would then reuse.
 */
export async function measureViewports(
  client: GlomsegConnection,
  options: { slideId: string; modelId: string; grid: TileGrid; count: number; mpp?: number; threshold: number },
) {
  const { grid } = options;
  const results = [];
  for (let i = 0; i < options.count; i++) {
    // Spread along the diagonal, away from the edges, offset from tile corners.
    const fx = (i + 1) / (options.count + 1);
    const fy = ((i * 2 + 1) % (options.count + 1) || 1) / (options.count + 1);
    const x = Math.floor((grid.slideWidth - VIEWPORT.width) * fx) + Math.round(grid.tileSizeLevel0 / 3);
    const y = Math.floor((grid.slideHeight - VIEWPORT.height) * fy) + Math.round(grid.tileSizeLevel0 / 3);
    const rect = {
      x: Math.min(x, grid.slideWidth - VIEWPORT.width),
      y: Math.min(y, grid.slideHeight - VIEWPORT.height),
      ...VIEWPORT,
    };
    const tiles = tilesInRect(grid, rect);
    const started = performance.now();
    let firstMs: number | undefined;
    let received = 0;
    let cached = 0;
    const request = streamTilesRequestToProto({
      slideId: options.slideId,
      modelId: options.modelId,
      tiles,
      mppOverride: options.mpp,
      threshold: options.threshold + 0.001,
    });
    for await (const result of client.api.streamTiles(request)) {
      firstMs ??= performance.now() - started;
      received++;
      if (result.cached) cached++;
    }
    const lastMs = performance.now() - started;
    results.push({
      rect,
      tiles: tiles.length,
      received,
      cached,
      firstTileMs: round(firstMs ?? NaN),
      lastTileMs: round(lastMs),
    });
    log(`viewport ${i + 1}: ${tiles.length} tiles, first ${round(firstMs ?? NaN)} ms, last ${round(lastMs)} ms`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    viewport: VIEWPORT,
    note: 'level-0 pixels (full resolution); model tiles under it requested in one StreamTiles call, centre first; fresh (uncached) areas',
    medianFirstTileMs: median(results.map((r) => r.firstTileMs)),
    medianLastTileMs: median(results.map((r) => r.lastTileMs)),
    runs: results,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
