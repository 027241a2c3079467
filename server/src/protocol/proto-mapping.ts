/**
 * Translates between the domain types of server/src/service and the protobuf-es messages of gen/. Both transports
 * use it: native gRPC (server/src/grpc) and gRPC-Web (server/src/web).
 */
import { create } from '@bufbuild/protobuf';
import type { GlomerulusPolygon, Rect, Ring, TileEdge } from '@glomseg/shared/geometry.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import { scaleNote } from '@glomseg/shared/scale-estimate.js';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { StainNormalizationChoice } from '@glomseg/shared/stain-normalization.js';
import * as pb from '../../../gen/glomseg/v1/glomseg_pb.js';
import type {
  AnnotationFormat,
  ModelSummary,
  ScoreEvent,
  ScoreSlideParams,
  SlideInfo,
  SlideSummary,
  StreamTilesParams,
  TileOutcome,
  Timings,
} from '../service/types.js';
import {
  validDiceTileEdge,
  validMppOverride,
  validRegion,
  validSlideId,
  validThreshold,
  validTileAddress,
} from '../validation/request-validation.js';

const EDGE_TO_PROTO: Record<TileEdge, pb.TileEdge> = {
  top: pb.TileEdge.TOP,
  right: pb.TileEdge.RIGHT,
  bottom: pb.TileEdge.BOTTOM,
  left: pb.TileEdge.LEFT,
};

const FORMAT_FROM_PROTO: Record<pb.AnnotationFormat, AnnotationFormat> = {
  [pb.AnnotationFormat.AUTO]: 'auto',
  [pb.AnnotationFormat.GEOJSON]: 'geojson',
  [pb.AnnotationFormat.LABELME]: 'labelme',
  [pb.AnnotationFormat.RLE_CSV]: 'rle-csv',
};

const STAIN_FROM_PROTO: Record<pb.StainNormalization, StainNormalizationChoice> = {
  [pb.StainNormalization.AUTO]: 'auto',
  [pb.StainNormalization.OFF]: 'off',
  [pb.StainNormalization.REINHARD]: 'reinhard',
};

function stainFromProto(value: pb.StainNormalization): StainNormalizationChoice {
  const choice = STAIN_FROM_PROTO[value];
  if (!choice) throw new GlomsegError('INVALID_ARGUMENT', `stain_normalization ${value} is not one of ${Object.keys(STAIN_FROM_PROTO).join(', ')}`);
  return choice;
}

function optionalString(value: string): string | undefined {
  return value === '' ? undefined : value;
}

export function slideSummaryToProto(slide: SlideSummary): pb.SlideSummary {
  return create(pb.SlideSummarySchema, { id: slide.id, name: slide.name, fileSize: BigInt(slide.fileSize) });
}

export function slideInfoToProto(slide: SlideInfo): pb.SlideInfo {
  const stats = slide.stain.statistics;
  return create(pb.SlideInfoSchema, {
    id: slide.id,
    name: slide.name,
    width: slide.width,
    height: slide.height,
    levels: slide.levels.map((level) => create(pb.PyramidLevelSchema, level)),
    tileWidth: slide.tileWidth,
    tileHeight: slide.tileHeight,
    mppX: slide.mppX ?? 0,
    mppY: slide.mppY ?? 0,
    mppSource: slide.mppSource,
    format: slide.format,
    compression: slide.compression,
    metadata: { ...slide.metadata },
    fileSize: BigInt(slide.fileSize),
    samplesPerPixel: slide.samplesPerPixel,
    stain: create(pb.SlideStainSchema, {
      measured: stats !== undefined,
      labMean: stats?.mean ?? [],
      labStd: stats?.std ?? [],
      tissueFraction: stats?.tissueFraction ?? 0,
      tissuePixels: stats?.tissuePixels ?? 0,
      level: slide.stain.level,
      tissueMapped: slide.stain.tissueMapped,
      unmeasuredBecause: slide.stain.unmeasuredBecause ?? '',
    }),
  });
}

export function tileGridToProto(grid: TileGrid): pb.TileGrid {
  return create(pb.TileGridSchema, {
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
    mppConfidence: grid.mppConfidence ?? 0,
    scaleNote: scaleNote(grid),
  });
}

export function modelToProto(model: ModelSummary): pb.ModelInfo {
  const { card } = model;
  return create(pb.ModelInfoSchema, {
    id: card.id,
    name: card.name,
    description: card.description,
    cardJson: JSON.stringify(card),
    mpp: card.mpp ?? 0,
    downsample: card.downsample ?? 0,
    tileSize: card.tileSize,
    margin: card.margin,
    threshold: card.threshold,
    grid: model.grid ? tileGridToProto(model.grid) : undefined,
    device: model.device,
  });
}

export function rectToProto(rect: Rect): pb.Rect {
  return create(pb.RectSchema, rect);
}

function ringToProto(ring: Ring): pb.Ring {
  const xy = new Array<number>(ring.length * 2);
  ring.forEach(([x, y], i) => {
    xy[2 * i] = x;
    xy[2 * i + 1] = y;
  });
  return create(pb.RingSchema, { xy });
}

export function polygonToProto(polygon: GlomerulusPolygon): pb.Polygon {
  return create(pb.PolygonSchema, {
    exterior: ringToProto(polygon.exterior),
    holes: polygon.holes.map(ringToProto),
    area: polygon.area,
    meanProbability: polygon.meanProbability,
    touches: polygon.touches.map((edge) => EDGE_TO_PROTO[edge]),
  });
}

export function timingsToProto(timings: Timings): pb.Timings {
  return create(pb.TimingsSchema, timings);
}

export function tileOutcomeToProto(outcome: TileOutcome, includeGrid: boolean): pb.TileResult {
  return create(pb.TileResultSchema, {
    tile: create(pb.TileAddressSchema, outcome.tile),
    bounds: rectToProto(outcome.bounds),
    polygons: outcome.polygons.map(polygonToProto),
    cached: outcome.cached,
    skipped: outcome.skipped,
    timings: timingsToProto(outcome.timings),
    requestIndex: outcome.requestIndex,
    tissueFraction: outcome.tissueFraction ?? 0,
    grid: includeGrid ? tileGridToProto(outcome.grid) : undefined,
  });
}

export function metricsToProto(metrics: DiceMetrics): pb.Metrics {
  return create(pb.MetricsSchema, {
    globalDice: metrics.globalDice,
    meanTileDice: metrics.meanTileDice,
    diceTileWidth: metrics.diceTileWidth,
    diceTileHeight: metrics.diceTileHeight,
    diceTiles: metrics.diceTiles,
    precision: metrics.precision,
    recall: metrics.recall,
    f1: metrics.f1,
    truePositives: metrics.truePositives,
    falsePositives: metrics.falsePositives,
    falseNegatives: metrics.falseNegatives,
    predictedArea: metrics.predictedArea,
    truthArea: metrics.truthArea,
    intersectionArea: metrics.intersectionArea,
    truthCount: metrics.truthCount,
  });
}

export function scoreEventToProto(event: ScoreEvent): pb.ScoreSlideEvent {
  if (event.kind === 'progress') {
    return create(pb.ScoreSlideEventSchema, { event: { case: 'progress', value: create(pb.ProgressSchema, event.progress) } });
  }
  const { result } = event;
  const value = create(pb.ScoreResultSchema, {
    slideId: result.slideId,
    modelId: result.modelId,
    region: rectToProto(result.region),
    polygons: result.polygons.map(polygonToProto),
    hasMetrics: result.metrics !== undefined,
    metrics: result.metrics ? metricsToProto(result.metrics) : undefined,
    grid: tileGridToProto(result.grid),
    elapsedMs: result.elapsedMs,
    totalTimings: timingsToProto(result.totalTimings),
  });
  return create(pb.ScoreSlideEventSchema, { event: { case: 'result', value } });
}

/** Request fields are checked here, at the edge both transports share, before any work (proto3: 0 / "" = not set). */
export function streamTilesParamsFromProto(request: pb.StreamTilesRequest): StreamTilesParams {
  return {
    slideId: validSlideId(request.slideId),
    modelId: optionalString(request.modelId),
    tiles: request.tiles.map((tile, index) => validTileAddress(tile, index)),
    mppOverride: validMppOverride(request.mppOverride),
    threshold: validThreshold(request.threshold),
    stainNormalization: stainFromProto(request.stainNormalization),
    includeBackground: request.includeBackground,
  };
}

export function listModelsParamsFromProto(request: pb.ListModelsRequest): { slideId?: string; mppOverride?: number } {
  return { slideId: optionalString(request.slideId), mppOverride: validMppOverride(request.mppOverride) };
}

export function scoreSlideParamsFromProto(request: pb.ScoreSlideRequest): ScoreSlideParams {
  return {
    slideId: validSlideId(request.slideId),
    modelId: optionalString(request.modelId),
    region: validRegion(request.region),
    annotations: request.annotations
      ? {
          content: request.annotations.content,
          format: FORMAT_FROM_PROTO[request.annotations.format] ?? 'auto',
          name: optionalString(request.annotations.name),
        }
      : undefined,
    mppOverride: validMppOverride(request.mppOverride),
    threshold: validThreshold(request.threshold),
    diceTileWidth: validDiceTileEdge('dice_tile_width', request.diceTileWidth),
    diceTileHeight: validDiceTileEdge('dice_tile_height', request.diceTileHeight),
    stainNormalization: stainFromProto(request.stainNormalization),
    includeBackground: request.includeBackground,
  };
}
