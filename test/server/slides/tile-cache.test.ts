import { describe, expect, it } from 'vitest';
import {
  cachedTile,
  evictTileCacheOwner,
  newTileCacheOwner,
  tileCacheStats,
  TILE_CACHE_MAX_BYTES,
} from '../../../server/src/slides/tile-cache.js';

const tile = (bytes: number) => ({ width: bytes / 3, height: 1, data: new Uint8Array(bytes) });

describe('tile-cache', () => {
  it('decodes a tile once for concurrent readers and then serves it from memory', async () => {
    const owner = newTileCacheOwner('a');
    let decodes = 0;
    const decode = async () => {
      decodes++;
      await new Promise((r) => setTimeout(r, 5));
      return tile(300);
    };
    const [a, b] = await Promise.all([cachedTile(owner, 'k', decode), cachedTile(owner, 'k', decode)]);
    expect(a).toBe(b);
    expect(await cachedTile(owner, 'k', decode)).toBe(a);
    expect(decodes).toBe(1);
    evictTileCacheOwner(owner);
    await cachedTile(owner, 'k', decode);
    expect(decodes).toBe(2);
  });

  it('stays within its byte budget however many tiles pass through', async () => {
    const owner = newTileCacheOwner('b');
    const size = 3 * 1024 * 1024;
    for (let i = 0; i < 40; i++) await cachedTile(owner, String(i), async () => tile(size));
    const stats = tileCacheStats();
    expect(stats.bytes).toBeLessThanOrEqual(TILE_CACHE_MAX_BYTES);
    expect(stats.bytes).toBeGreaterThan(TILE_CACHE_MAX_BYTES / 2);
    evictTileCacheOwner(owner);
  });
});
