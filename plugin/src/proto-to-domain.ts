/** protobuf-es messages from the server as the plain domain types the shared code works on. */
import type { GlomerulusPolygon, Rect, Ring, TileEdge } from '@glomseg/shared/geometry.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { SlideLevel, SlideMetadata } from '@glomseg/shared/slide-source.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';

const EDGES: Partial<Record<pb.TileEdge, TileEdge>> = {
  [pb.TileEdge.TOP]: 'top',
  [pb.TileEdge.RIGHT]: 'right',
  [pb.TileEdge.BOTTOM]: 'bottom',
  [pb.TileEdge.LEFT]: 'left',
};

function ringFromProto(ring: pb.Ring | undefined): Ring {
  const xy = ring?.xy ?? [];
  const points: Ring = [];
  for (let i = 0; i + 1 < xy.length; i += 2) points.push([xy[i], xy[i + 1]]);
  return points;
}

export function polygonFromProto(polygon: pb.Polygon): GlomerulusPolygon {
  return {
    exterior: ringFromProto(polygon.exterior),
    holes: polygon.holes.map(ringFromProto),
    area: polygon.area,
    meanProbability: polygon.meanProbability,
    touches: polygon.touches.map((edge) => EDGES[edge]).filter((edge): edge is TileEdge => edge !== undefined),
  };
}

export function rectFromProto(rect: pb.Rect | undefined): Rect {
  return { x: rect?.x ?? 0, y: rect?.y ?? 0, width: rect?.width ?? 0, height: rect?.height ?? 0 };
}

export function slideFromProto(info: pb.SlideInfo): SlideMetadata {
  const levels: SlideLevel[] = info.levels.map((l) => ({
    index: l.index,
    width: l.width,
    height: l.height,
    downsample: l.downsample,
    tileWidth: l.tileWidth,
    tileHeight: l.tileHeight,
    synthesized: l.synthesized,
  }));
  return {
    id: info.id,
    name: info.name,
    width: info.width,
    height: info.height,
    levels,
    tileWidth: info.tileWidth,
    tileHeight: info.tileHeight,
    mppX: info.mppX || undefined,
    mppY: info.mppY || undefined,
    mppSource: info.mppSource as SlideMetadata['mppSource'],
    format: info.format as SlideMetadata['format'],
    compression: info.compression,
    metadata: { ...info.metadata },
    fileSize: Number(info.fileSize),
    samplesPerPixel: info.samplesPerPixel,
  };
}

/** A model with its grid on one slide. The proto grid lacks the read-side fields; they come from the card and slide. */
export interface ModelOnSlide {
  card: ModelCard;
  device: string;
  grid: TileGrid;
}

export function modelOnSlideFromProto(model: pb.ModelInfo, slide: SlideMetadata): ModelOnSlide | undefined {
  const grid = model.grid;
  if (!grid) return undefined;
  const card = JSON.parse(model.cardJson) as ModelCard;
  return {
    card,
    device: model.device,
    grid: {
      slideId: grid.slideId,
      modelId: grid.modelId,
      scale: grid.scale,
      level: grid.level,
      levelDownsample: slide.levels[grid.level]?.downsample ?? 1,
      tileSize: model.tileSize,
      // The server rounds this for the wire; the exact value follows from the scale.
      tileSizeLevel0: model.tileSize * grid.scale,
      margin: model.margin,
      sizeMultiple: card.sizeMultiple,
      cols: grid.cols,
      rows: grid.rows,
      slideWidth: grid.slideWidth,
      slideHeight: grid.slideHeight,
      mppAssumed: grid.mppAssumed,
      mppSource: grid.mppSource as TileGrid['mppSource'],
      ...(grid.mppSource === 'estimated' ? { mppConfidence: grid.mppConfidence } : {}),
    },
  };
}
