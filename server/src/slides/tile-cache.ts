/**
 * One process-wide LRU of decoded tiles, bounded in bytes, shared by every open slide source, so neighbouring
 * region reads reuse tiles while memory stays bounded whatever the slide size or the number of open slides.
 */
import { LRUCache } from 'lru-cache';
import type { RgbImage } from '@glomseg/shared/slide-source.js';

export const TILE_CACHE_MAX_BYTES = 64 * 1024 * 1024;

const cache = new LRUCache<string, RgbImage>({
  maxSize: TILE_CACHE_MAX_BYTES,
  sizeCalculation: (tile) => Math.max(1, tile.data.byteLength),
});
/** Decodes in flight, so concurrent reads of one tile decode it once. */
const pending = new Map<string, Promise<RgbImage>>();

let nextOwner = 1;

/** A key prefix unique to one open source; stale tiles of a closed source can never be served to another. */
export function newTileCacheOwner(label: string): string {
  return `${nextOwner++}:${label}`;
}

/** The cached tile, or decodes it once (concurrent callers share the decode) and caches it. */
export async function cachedTile(owner: string, key: string, decode: () => Promise<RgbImage>): Promise<RgbImage> {
  const fullKey = `${owner}|${key}`;
  const hit = cache.get(fullKey);
  if (hit) return hit;
  const inFlight = pending.get(fullKey);
  if (inFlight) return inFlight;
  const promise = decode()
    .then((tile) => {
      // A tile larger than the whole cache is used once and not kept.
      if (tile.data.byteLength <= TILE_CACHE_MAX_BYTES / 4) cache.set(fullKey, tile);
      return tile;
    })
    .finally(() => pending.delete(fullKey));
  pending.set(fullKey, promise);
  return promise;
}

/** Drops every tile of one owner (called when its source closes). */
export function evictTileCacheOwner(owner: string): void {
  const prefix = `${owner}|`;
  for (const key of cache.keys()) if (key.startsWith(prefix)) cache.delete(key);
}

export function tileCacheStats(): { entries: number; bytes: number; maxBytes: number } {
  return { entries: cache.size, bytes: cache.calculatedSize, maxBytes: TILE_CACHE_MAX_BYTES };
}
