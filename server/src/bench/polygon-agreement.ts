/**
 * How far two scorings of one slide agree (ScoreSlide on the small grid and on larger windows, fp32 and int8, two
 * models): pixel Dice of one polygon set against the other and their one-to-one object F1, counted in model pixels
 * (level-0 coordinates divided by the scale), so that a whole 61,440² slide is rasterised in seconds, not minutes.
 */
import { computeDiceMetrics } from '@glomseg/shared/dice.js';
import type { Polygon, Rect, Ring } from '@glomseg/shared/geometry.js';

export interface Agreement {
  dice: number;
  f1: number;
  /** Polygons on each side. */
  counts: [number, number];
}

const scaleRing = (ring: Ring, by: number): Ring => ring.map(([x, y]) => [x / by, y / by]);

function scaled(polygons: readonly Polygon[], by: number): Polygon[] {
  return polygons.map((p) => ({ exterior: scaleRing(p.exterior, by), holes: p.holes.map((h) => scaleRing(h, by)) }));
}

/** Agreement of `a` and `b` (level-0 polygons) over `region`, rasterised at 1/`scale`. */
export function polygonAgreement(a: readonly Polygon[], b: readonly Polygon[], region: Rect, scale = 1): Agreement {
  const inModelPixels = {
    x: Math.floor(region.x / scale),
    y: Math.floor(region.y / scale),
    width: Math.ceil(region.width / scale),
    height: Math.ceil(region.height / scale),
  };
  const metrics = computeDiceMetrics(scaled(a, scale), scaled(b, scale), inModelPixels, {
    tileWidth: 2048,
    tileHeight: 2048,
  });
  return { dice: metrics.globalDice, f1: metrics.f1, counts: [a.length, b.length] };
}
