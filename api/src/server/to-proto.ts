/**
 * Domain -> wire on the server side: the replies the service's results become, the only place a domain type
 * becomes a glomseg.v1 reply. The way back is api/src/client/from-proto.ts.
 */
import { create } from '@bufbuild/protobuf';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import { pointCount, type GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type {
  ModelSummary,
  ScoreEvent,
  SlideInfo,
  SlideSummary,
  TileOutcome,
  Timings,
} from '@glomseg/shared/glomseg-service.js';
import { scaleNote } from '@glomseg/shared/scale-estimate.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { TILE_EDGES } from '../wire-enums.js';
import { rectToProto, ringToProto } from '../wire-shapes.js';

/** Card fields ModelInfo carries as typed fields; the rest travel in details_json. */
export const TYPED_CARD_FIELDS = [
  'id',
  'name',
  'description',
  'mpp',
  'downsample',
  'tileSize',
  'margin',
  'sizeMultiple',
  'threshold',
  'minArea',
] as const;

/** Encoded polygons one PolygonBatch may hold (the proto promises every message stays well under 1 MiB). */
export const POLYGON_BATCH_BYTES = 256 * 1024;

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
    levels: slide.levels.map((level) =>
      create(pb.PyramidLevelSchema, {
        index: level.index,
        width: level.width,
        height: level.height,
        downsample: level.downsample,
        tileWidth: level.tileWidth || undefined,
        tileHeight: level.tileHeight || undefined,
        synthesized: level.synthesized,
      }),
    ),
    tileWidth: slide.tileWidth,
    tileHeight: slide.tileHeight,
    mppX: slide.mppX,
    mppY: slide.mppY,
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

/** The wire grid has every field of the domain one, by the same names, plus the scale note for people. */
export function tileGridToProto(grid: TileGrid): pb.TileGrid {
  return create(pb.TileGridSchema, { ...grid, scaleNote: scaleNote(grid) });
}

export function modelToProto(model: ModelSummary): pb.ModelInfo {
  const { card } = model;
  const details: Record<string, unknown> = { ...card };
  for (const field of TYPED_CARD_FIELDS) delete details[field];
  if (card.stain) details.stain = { ...card.stain, method: undefined };
  return create(pb.ModelInfoSchema, {
    id: card.id,
    name: card.name,
    description: card.description,
    mpp: card.mpp,
    downsample: card.downsample,
    tileSize: card.tileSize,
    margin: card.margin,
    sizeMultiple: card.sizeMultiple,
    threshold: card.threshold,
    minArea: card.minArea,
    stainMethod: card.stain?.method ?? 'off',
    grid: model.grid ? tileGridToProto(model.grid) : undefined,
    device: model.device,
    detailsJson: JSON.stringify(details),
    isDefault: model.isDefault === true,
  });
}

export function polygonToProto(polygon: GlomerulusPolygon): pb.Polygon {
  return create(pb.PolygonSchema, {
    exterior: ringToProto(polygon.exterior),
    holes: polygon.holes.map(ringToProto),
    area: polygon.area,
    meanProbability: polygon.meanProbability,
    touches: polygon.touches.map((edge) => TILE_EDGES.wire(edge)),
  });
}

/**
 * An upper bound of a polygon's encoded size inside a PolygonBatch, from its point count alone (8 bytes a
 * coordinate, generous tags and lengths), so that batches are cut without encoding anything twice.
 */
export function polygonWireBound(polygon: GlomerulusPolygon): number {
  const coordinates = 2 * pointCount(polygon);
  return 16 * coordinates + 12 * (1 + polygon.holes.length) + 2 * polygon.touches.length + 32;
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
    tissueFraction: outcome.tissueFraction,
    tissueArea: outcome.tissueArea,
    probabilityPng: outcome.probabilityPng,
    grid: includeGrid ? tileGridToProto(outcome.grid) : undefined,
  });
}

export function metricsToProto(metrics: DiceMetrics): pb.Metrics {
  return create(pb.MetricsSchema, { ...metrics });
}

/**
 * One domain ScoreSlide event as wire events: a progress event as one; the result as its polygons in batches of
 * at most POLYGON_BATCH_BYTES (one polygon alone when it is larger), then the summary, which ends the stream.
 */
export function* scoreEventToProto(event: ScoreEvent, batchBytes = POLYGON_BATCH_BYTES): Generator<pb.ScoreSlideEvent> {
  if (event.kind === 'progress') {
    yield create(pb.ScoreSlideEventSchema, {
      event: { case: 'progress', value: create(pb.ProgressSchema, event.progress) },
    });
    return;
  }
  const { result } = event;
  let batch: pb.Polygon[] = [];
  let bytes = 0;
  let firstIndex = 0;
  const flush = () => {
    const value = create(pb.PolygonBatchSchema, { polygons: batch, firstIndex });
    firstIndex += batch.length;
    batch = [];
    bytes = 0;
    return create(pb.ScoreSlideEventSchema, { event: { case: 'polygons', value } });
  };
  for (const polygon of result.polygons) {
    const size = polygonWireBound(polygon);
    if (batch.length > 0 && bytes + size > batchBytes) yield flush();
    batch.push(polygonToProto(polygon));
    bytes += size;
  }
  if (batch.length > 0) yield flush();
  const value = create(pb.ScoreResultSchema, {
    slideId: result.slideId,
    modelId: result.modelId,
    region: rectToProto(result.region),
    metrics: result.metrics ? metricsToProto(result.metrics) : undefined,
    grid: tileGridToProto(result.grid),
    elapsedMs: result.elapsedMs,
    totalTimings: timingsToProto(result.totalTimings),
    polygonCount: result.polygons.length,
    tissueArea: result.tissueArea,
    warnings: result.warnings,
  });
  yield create(pb.ScoreSlideEventSchema, { event: { case: 'result', value } });
}
