/**
 * Predicted glomeruli as they arrive tile by tile. Pieces that touch no tile edge are final at once; pieces on
 * tile edges are re-joined (shared joinAcrossTiles) whenever a tile arrives, and the joined set replaces the
 * previous one, so one glomerulus cut by tile borders is one polygon.
 */
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { joinAcrossTiles } from '@glomseg/shared/join-polygons.js';
import { tileKey } from '@glomseg/shared/tile-grid.js';
import type { ReceivedTile } from './tile-stream.js';

export interface PredictedGlomerulus {
  /** Stable for interior pieces; joined edge groups get new ids whenever they are re-joined. */
  id: string;
  polygon: GlomerulusPolygon;
}

export interface PredictionChange {
  added: PredictedGlomerulus[];
  removedIds: string[];
}

export class PredictionStore {
  private readonly interior = new Map<string, PredictedGlomerulus>();
  private edgePieces: GlomerulusPolygon[] = [];
  private joined: PredictedGlomerulus[] = [];
  private joinGeneration = 0;

  /** `minHoleArea`: holes smaller than the slide's smallest glomerulus are filled when pieces join (see joinAcrossTiles). */
  constructor(private readonly minHoleArea = 0) {}

  /** Adds one tile's raw pieces; returns what to draw and what to take away. */
  addTile(result: ReceivedTile): PredictionChange {
    const key = tileKey(result.tile);
    const added: PredictedGlomerulus[] = [];
    let newEdgePieces = false;
    result.polygons.forEach((polygon, i) => {
      if (polygon.touches.length > 0) {
        this.edgePieces.push(polygon);
        newEdgePieces = true;
      } else {
        const entry = { id: `p${key}#${i}`, polygon };
        this.interior.set(entry.id, entry);
        added.push(entry);
      }
    });
    if (!newEdgePieces) return { added, removedIds: [] };
    const removedIds = this.joined.map((entry) => entry.id);
    const generation = ++this.joinGeneration;
    this.joined = joinAcrossTiles(this.edgePieces, { minHoleArea: this.minHoleArea }).map((polygon, i) => ({ id: `j${generation}#${i}`, polygon }));
    return { added: [...added, ...this.joined], removedIds };
  }

  /** Every glomerulus drawn now: interior pieces plus joined edge groups. */
  all(): PredictedGlomerulus[] {
    return [...this.interior.values(), ...this.joined];
  }

  polygons(): GlomerulusPolygon[] {
    return this.all().map((entry) => entry.polygon);
  }

  get size(): number {
    return this.interior.size + this.joined.length;
  }

  clear(): void {
    this.interior.clear();
    this.edgePieces = [];
    this.joined = [];
  }
}
