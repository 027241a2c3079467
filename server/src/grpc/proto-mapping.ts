/** Domain <-> glomseg.v1 messages, as the plain objects @grpc/proto-loader reads and writes. */
import type { GlomerulusPolygon, Rect, Ring, TileEdge } from '@glomseg/shared/geometry.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import type { TileAddress, TileGrid } from '@glomseg/shared/tile-grid.js';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type {
  AnnotationFormat,
  ModelSummary,
  ScoreEvent,
  ScoreSlideParams,
  StreamTilesParams,
  TileOutcome,
  Timings,
} from '../service/types.js';

const EDGE_TO_PROTO: Record<TileEdge, string> = {
  top: 'TILE_EDGE_TOP',
  right: 'TILE_EDGE_RIGHT',
  bottom: 'TILE_EDGE_BOTTOM',
  left: 'TILE_EDGE_LEFT',
};

const FORMAT_FROM_PROTO: Record<string, AnnotationFormat> = {
  ANNOTATION_FORMAT_AUTO: 'auto',
  ANNOTATION_FORMAT_GEOJSON: 'geojson',
  ANNOTATION_FORMAT_LABELME: 'labelme',
  ANNOTATION_FORMAT_RLE_CSV: 'rle-csv',
};

function ringToProto(ring: Ring) {
  const xy = new Array<number>(ring.length * 2);
  for (let i = 0; i < ring.length; i++) {
    xy[2 * i] = ring[i][0];
    xy[2 * i + 1] = ring[i][1];
  }
  return { xy };
}

export function polygonToProto(p: GlomerulusPolygon) {
  return {
    exterior: ringToProto(p.exterior),
    holes: p.holes.map(ringToProto),
    area: p.area,
    meanProbability: p.meanProbability,
    touches: p.touches.map((edge) => EDGE_TO_PROTO[edge]),
  };
}

export function gridToProto(grid: TileGrid) {
  return {
    slideId: grid.slideId,
    modelId: grid.modelId,
    scale: grid.scale,
    level: grid.level,
    tileSizeLevel0: Math.round(grid.tileSizeLevel0),
    cols: grid.cols,
    rows: grid.rows,
    slideWidth: grid.slideWidth,
    slideHeight: grid.slideHeight,
    mppAssumed: grid.mppAssumed,
    mppSource: grid.mppSource,
  };
}

export function slideInfoToProto(m: SlideMetadata) {
  return {
    id: m.id,
    name: m.name,
    width: m.width,
    height: m.height,
    levels: m.levels.map((l) => ({ ...l })),
    tileWidth: m.tileWidth,
    tileHeight: m.tileHeight,
    mppX: m.mppX ?? 0,
    mppY: m.mppY ?? 0,
    mppSource: m.mppSource,
    format: m.format,
    compression: m.compression,
    metadata: m.metadata,
    fileSize: m.fileSize,
    samplesPerPixel: m.samplesPerPixel,
  };
}

export function modelToProto(model: ModelSummary) {
  const { card } = model;
  return {
    id: card.id,
    name: card.name,
    description: card.description,
    cardJson: JSON.stringify(card),
    mpp: card.mpp ?? 0,
    downsample: card.downsample ?? 0,
    tileSize: card.tileSize,
    margin: card.margin,
    threshold: card.threshold,
    grid: model.grid ? gridToProto(model.grid) : null,
    device: model.device,
  };
}

function timingsToProto(t: Timings) {
  return { readMs: t.readMs, inferenceMs: t.inferenceMs, postprocessMs: t.postprocessMs, queueMs: t.queueMs };
}

export function tileOutcomeToProto(outcome: TileOutcome, includeGrid: boolean) {
  return {
    tile: outcome.tile,
    bounds: outcome.bounds,
    polygons: outcome.polygons.map(polygonToProto),
    cached: outcome.cached,
    timings: timingsToProto(outcome.timings),
    requestIndex: outcome.requestIndex,
    grid: includeGrid ? gridToProto(outcome.grid) : null,
  };
}

export function metricsToProto(m: DiceMetrics) {
  return { ...m };
}

export function scoreEventToProto(event: ScoreEvent) {
  if (event.kind === 'progress') return { progress: event.progress };
  const r = event.result;
  return {
    result: {
      slideId: r.slideId,
      modelId: r.modelId,
      region: r.region,
      polygons: r.polygons.map(polygonToProto),
      hasMetrics: r.metrics !== undefined,
      metrics: r.metrics ? metricsToProto(r.metrics) : null,
      grid: gridToProto(r.grid),
      elapsedMs: r.elapsedMs,
      totalTimings: timingsToProto(r.totalTimings),
    },
  };
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && value !== 0 ? value : undefined;
}

function tileFromProto(t: any, index: number): TileAddress {
  if (!t) throw new GlomsegError('INVALID_ARGUMENT', `tile ${index} is empty`);
  return { col: Number(t.col ?? 0), row: Number(t.row ?? 0) };
}

export function streamTilesFromProto(req: any): StreamTilesParams {
  return {
    slideId: String(req.slideId ?? ''),
    modelId: req.modelId || undefined,
    tiles: (req.tiles ?? []).map(tileFromProto),
    mppOverride: optionalNumber(req.mppOverride),
    threshold: optionalNumber(req.threshold),
  };
}

export function regionFromProto(r: any): Rect | undefined {
  if (!r || (!r.width && !r.height && !r.x && !r.y)) return undefined;
  return { x: Number(r.x), y: Number(r.y), width: Number(r.width), height: Number(r.height) };
}

export function scoreSlideFromProto(req: any): ScoreSlideParams {
  const annotations = req.annotations?.content
    ? {
        content: String(req.annotations.content),
        format: FORMAT_FROM_PROTO[req.annotations.format] ?? 'auto',
        name: req.annotations.name || undefined,
      }
    : undefined;
  return {
    slideId: String(req.slideId ?? ''),
    modelId: req.modelId || undefined,
    region: regionFromProto(req.region),
    annotations,
    mppOverride: optionalNumber(req.mppOverride),
    threshold: optionalNumber(req.threshold),
    diceTileWidth: optionalNumber(req.diceTileWidth),
    diceTileHeight: optionalNumber(req.diceTileHeight),
  };
}

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
