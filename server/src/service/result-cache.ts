/** Finished tile results, kept per slide, model, settings and tile; bounded in bytes, least recently used first out. */
import { LRUCache } from 'lru-cache';
import type { GlomerulusPolygon, Rect } from '@glomseg/shared/geometry.js';
import type { Timings } from '@glomseg/shared/glomseg-service.js';

export interface CachedTile {
  bounds: Rect;
  polygons: GlomerulusPolygon[];
  timings: Timings;
  /** Share of the tile that is stained tissue (of the kept centre's read image). */
  tissueFraction?: number;
}

/** Rough bytes a cached tile holds: two doubles per vertex plus fixed overhead. */
function approximateBytes(tile: CachedTile): number {
  let vertices = 0;
  for (const p of tile.polygons) {
    vertices += p.exterior.length;
    for (const h of p.holes) vertices += h.length;
  }
  return 256 + tile.polygons.length * 160 + vertices * 48;
}

export class ResultCache {
  private readonly lru: LRUCache<string, CachedTile>;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, CachedTile>({ maxSize: maxBytes, sizeCalculation: approximateBytes });
  }

  get(key: string): CachedTile | undefined {
    return this.lru.get(key);
  }

  set(key: string, tile: CachedTile): void {
    this.lru.set(key, tile);
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  clear(): void {
    this.lru.clear();
  }
}
