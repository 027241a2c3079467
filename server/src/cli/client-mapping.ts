/** The client side: glomseg.v1 messages as @grpc/proto-loader decodes them, back into domain shapes. */
import type { GlomerulusPolygon, Ring, TileEdge } from '@glomseg/shared/geometry.js';
import type { DiceMetrics } from '@glomseg/shared/dice.js';

const EDGE_FROM_PROTO: Record<string, TileEdge> = {
  TILE_EDGE_TOP: 'top',
  TILE_EDGE_RIGHT: 'right',
  TILE_EDGE_BOTTOM: 'bottom',
  TILE_EDGE_LEFT: 'left',
};

function ringFromProto(ring: { xy?: number[] } | null | undefined): Ring {
  const xy = ring?.xy ?? [];
  const out: Ring = [];
  for (let i = 0; i + 1 < xy.length; i += 2) out.push([xy[i], xy[i + 1]]);
  return out;
}

/** The client side: a polygon as received back into the domain shape. */
export function polygonFromProto(p: any): GlomerulusPolygon {
  return {
    exterior: ringFromProto(p.exterior),
    holes: (p.holes ?? []).map(ringFromProto),
    area: Number(p.area ?? 0),
    meanProbability: Number(p.meanProbability ?? 0),
    touches: (p.touches ?? []).map((t: string) => EDGE_FROM_PROTO[t]).filter(Boolean),
  };
}

/** The client side: a ScoreResult's metrics (every field a plain number) back into the domain shape. */
export function diceMetricsFromProto(m: any): DiceMetrics {
  return {
    globalDice: Number(m.globalDice ?? 0),
    meanTileDice: Number(m.meanTileDice ?? 0),
    diceTileWidth: Number(m.diceTileWidth ?? 0),
    diceTileHeight: Number(m.diceTileHeight ?? 0),
    diceTiles: Number(m.diceTiles ?? 0),
    precision: Number(m.precision ?? 0),
    recall: Number(m.recall ?? 0),
    f1: Number(m.f1 ?? 0),
    truePositives: Number(m.truePositives ?? 0),
    falsePositives: Number(m.falsePositives ?? 0),
    falseNegatives: Number(m.falseNegatives ?? 0),
    predictedArea: Number(m.predictedArea ?? 0),
    truthArea: Number(m.truthArea ?? 0),
    intersectionArea: Number(m.intersectionArea ?? 0),
    truthCount: Number(m.truthCount ?? 0),
  };
}
