/**
 * The model's probabilities of finished tiles (the whole read window, context margin included: touching glomeruli
 * are parted on it), per slide, model, scale and tile: what a new threshold needs to cut the tile again without
 * running the model. Bounded in bytes, least recently used out.
 */
import { LRUCache } from 'lru-cache';
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';

/** A tile's probabilities, and its tissue share (a re-cut tile reports it too). */
export interface KeptTile {
  map: ProbabilityMap;
  tissueFraction?: number;
}

export class ProbabilityCache {
  private readonly lru: LRUCache<string, KeptTile>;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, KeptTile>({ maxSize: maxBytes, sizeCalculation: (kept) => 64 + kept.map.data.byteLength });
  }

  get(key: string): KeptTile | undefined {
    return this.lru.get(key);
  }

  set(key: string, kept: KeptTile): void {
    this.lru.set(key, kept);
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }
}
