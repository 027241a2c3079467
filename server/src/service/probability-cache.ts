/**
 * The model's probabilities of finished tiles (the whole read window, context margin included: touching glomeruli
 * are parted on it), per slide, model, scale and tile: what a new threshold needs to cut the tile again without
 * running the model. Bounded in bytes, least recently used out.
 */
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';
import { ByteBoundedCache } from './byte-bounded-cache.js';

/** A tile's probabilities, and its tissue share (a re-cut tile reports it too). */
export interface KeptTile {
  map: ProbabilityMap;
  tissueFraction?: number;
}

/** Sized as the map's floats plus a small fixed overhead. */
export class ProbabilityCache extends ByteBoundedCache<KeptTile> {
  constructor(maxBytes: number) {
    super(maxBytes, (kept) => 64 + kept.map.data.byteLength);
  }
}
