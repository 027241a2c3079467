/** Finished tile results, kept per slide, model, settings and tile; bounded in bytes, least recently used first out. */
import type { TileOutcome } from '@glomseg/shared/glomseg-service.js';
import { ByteBoundedCache } from './byte-bounded-cache.js';

/** What a finished tile's result keeps (the service's one tile shape, TileOutcome). */
export type CachedTile = Pick<TileOutcome, 'bounds' | 'polygons' | 'timings' | 'tissueFraction' | 'probabilityPng'>;

/** Rough bytes a cached tile holds: two doubles per vertex, its heatmap PNG, and fixed overhead. */
function approximateBytes(tile: CachedTile): number {
  let vertices = 0;
  for (const p of tile.polygons) {
    vertices += p.exterior.length;
    for (const h of p.holes) vertices += h.length;
  }
  return 256 + tile.polygons.length * 160 + vertices * 48 + (tile.probabilityPng?.byteLength ?? 0);
}

export class ResultCache extends ByteBoundedCache<CachedTile> {
  constructor(maxBytes: number) {
    super(maxBytes, approximateBytes);
  }
}
