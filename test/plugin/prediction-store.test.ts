/** The plugin's tile-by-tile store against one join of every piece at the end, on traced masks cut into tiles. */
import { describe, expect, it } from 'vitest';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { joinAcrossTiles } from '@glomseg/shared/join-polygons.js';
import { maskToPolygons } from '@glomseg/shared/mask-to-polygons.js';
import { PredictionStore } from '../../plugin/src/prediction-store.js';

const TILE = 24;

/** A grid of tiles over discs scattered on a large map; each tile's pieces traced as the server would. */
function tiles(cols: number, rows: number, seed: number, minArea = 0) {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const width = cols * TILE;
  const height = rows * TILE;
  const discs = Array.from({ length: Math.round(cols * rows * 0.5) }, () => ({
    x: random() * width,
    y: random() * height,
    r: 3 + random() * 6,
  }));
  const out: Array<{
    tile: { col: number; row: number };
    bounds: { x: number; y: number; width: number; height: number };
    polygons: GlomerulusPolygon[];
    cached: boolean;
  }> = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const data = new Float32Array(TILE * TILE);
      for (let y = 0; y < TILE; y++)
        for (let x = 0; x < TILE; x++) {
          const px = col * TILE + x + 0.5;
          const py = row * TILE + y + 0.5;
          data[y * TILE + x] = discs.some((d) => (px - d.x) ** 2 + (py - d.y) ** 2 <= d.r * d.r) ? 0.95 : 0.05;
        }
      const polygons = maskToPolygons(
        { width: TILE, height: TILE, data },
        0.5,
        { originX: col * TILE, originY: row * TILE, scale: 1 },
        { simplifyTolerance: 0, minArea },
      );
      out.push({
        tile: { col, row },
        bounds: { x: col * TILE, y: row * TILE, width: TILE, height: TILE },
        polygons,
        cached: false,
      });
    }
  }
  return out;
}

const summary = (polygons: GlomerulusPolygon[]) => polygons.map((p) => `${p.area.toFixed(3)}:${p.holes.length}`).sort();

describe('PredictionStore', () => {
  it('draws what one join of all pieces gives, whatever order tiles arrive in', () => {
    const all = tiles(8, 6, 7);
    for (const order of [
      all,
      [...all].reverse(),
      [...all].sort((a, b) => ((a.tile.col * 7 + a.tile.row * 13) % 11) - ((b.tile.col * 7 + b.tile.row * 13) % 11)),
    ]) {
      const store = new PredictionStore();
      const drawn = new Map<string, GlomerulusPolygon>();
      for (const tile of order) {
        const change = store.addTile(tile);
        for (const { id } of change.removed) expect(drawn.delete(id), `removes only what it drew: ${id}`).toBe(true);
        for (const entry of change.added) drawn.set(entry.id, entry.polygon);
      }
      const expected = joinAcrossTiles(all.flatMap((t) => t.polygons));
      expect(summary([...drawn.values()])).toEqual(summary(expected));
      expect(summary(store.polygons())).toEqual(summary(expected));
      expect(store.size).toBe(expected.length);
    }
  });

  it('leaves out joined glomeruli smaller than the minimum area, as ScoreSlide does, whatever order tiles arrive in', () => {
    const minArea = 90;
    const all = tiles(8, 6, 7, minArea);
    const expected = joinAcrossTiles(
      all.flatMap((t) => t.polygons),
      { minHoleArea: minArea },
    ).filter((p) => p.area >= minArea);
    // The case is real: tiles keep small edge pieces, and some join into something still small.
    expect(joinAcrossTiles(all.flatMap((t) => t.polygons)).length).toBeGreaterThan(expected.length);
    for (const order of [all, [...all].reverse()]) {
      const store = new PredictionStore(minArea);
      const drawn = new Map<string, GlomerulusPolygon>();
      for (const tile of order) {
        const change = store.addTile(tile);
        for (const { id } of change.removed) expect(drawn.delete(id), `removes only what it drew: ${id}`).toBe(true);
        for (const entry of change.added) drawn.set(entry.id, entry.polygon);
      }
      expect(summary([...drawn.values()])).toEqual(summary(expected));
    }
  });

  it('joins again only the pieces around each new tile, not all received (was every edge piece, every tile)', () => {
    const all = tiles(20, 20, 3);
    const store = new PredictionStore();
    let most = 0;
    let edgePieces = 0;
    for (const tile of all) {
      store.addTile(tile);
      most = Math.max(most, store.lastJoinPieces);
      edgePieces += tile.polygons.filter((p) => p.touches.length > 0).length;
    }
    expect(edgePieces).toBeGreaterThan(300);
    expect(most).toBeLessThan(edgePieces / 10);
  });

  it('keeps the ids of two cuts apart', () => {
    const [first] = tiles(2, 2, 5).filter((t) => t.polygons.length > 0);
    const a = new PredictionStore(0, 'c1:').addTile(first).added.map((e) => e.id);
    const b = new PredictionStore(0, 'c2:').addTile(first).added.map((e) => e.id);
    expect(a.some((id) => b.includes(id))).toBe(false);
  });
});
