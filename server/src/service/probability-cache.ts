/**
 * The model's probabilities of finished tiles (kept centre only), per slide, model, scale and tile: what a new
 * threshold needs to cut the tile again without running the model. Bounded in bytes, least recently used out.
 */
import { LRUCache } from 'lru-cache';
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';

export class ProbabilityCache {
  private readonly lru: LRUCache<string, ProbabilityMap>;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, ProbabilityMap>({ maxSize: maxBytes, sizeCalculation: (map) => 64 + map.data.byteLength });
  }

  get(key: string): ProbabilityMap | undefined {
    return this.lru.get(key);
  }

  set(key: string, map: ProbabilityMap): void {
    this.lru.set(key, map);
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }
}
