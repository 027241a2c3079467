/**
 * Wire -> domain on the client side: the replies the CLI, the benches, the plugin and the tests receive, as the
 * plain types of shared/. No request check lives here: a client bundle carries none of the server's rules. The way
 * there is client/to-proto.ts; the server's side is api/src/server/.
 */
import { create } from '@bufbuild/protobuf';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { GlomerulusPolygon, TileEdge } from '@glomseg/shared/geometry.js';
import type {
  ModelSummary,
  ScoreEvent,
  ScoreResult,
  SlideInfo,
  SlideSummary,
  TileOutcome,
} from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { SlideLevel } from '@glomseg/shared/slide-source.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { TILE_EDGES } from '../wire-enums.js';
import { rectFromProto, ringFromProto } from '../wire-shapes.js';

function optionalString(value: string): string | undefined {
  return value === '' ? undefined : value;
}

export function slideSummaryFromProto(slide: pb.SlideSummary): SlideSummary {
  return { id: slide.id, name: slide.name, fileSize: Number(slide.fileSize) };
}

export function slideInfoFromProto(info: pb.SlideInfo): SlideInfo {
  const levels: SlideLevel[] = info.levels.map((l) => ({
    index: l.index,
    width: l.width,
    height: l.height,
    downsample: l.downsample,
    tileWidth: l.tileWidth ?? 0,
    tileHeight: l.tileHeight ?? 0,
    synthesized: l.synthesized,
  }));
  const stain = info.stain;
  return {
    id: info.id,
    name: info.name,
    width: info.width,
    height: info.height,
    levels,
    tileWidth: info.tileWidth,
    tileHeight: info.tileHeight,
    mppX: info.mppX,
    mppY: info.mppY,
    mppSource: info.mppSource as SlideInfo['mppSource'],
    format: info.format as SlideInfo['format'],
    compression: info.compression,
    metadata: { ...info.metadata },
    fileSize: Number(info.fileSize),
    samplesPerPixel: info.samplesPerPixel,
    stain: {
      statistics: stain?.measured
        ? {
            mean: [...stain.labMean] as [number, number, number],
            std: [...stain.labStd] as [number, number, number],
            tissueFraction: stain.tissueFraction,
            tissuePixels: stain.tissuePixels,
          }
        : undefined,
      level: stain?.level ?? -1,
      tissueMapped: stain?.tissueMapped ?? false,
      unmeasuredBecause: optionalString(stain?.unmeasuredBecause ?? ''),
    },
  };
}

export function tileGridFromProto(grid: pb.TileGrid): TileGrid {
  // The same fields by the same names (server/to-proto.ts), less the note for people, which the domain derives.
  const { $typeName: _type, scaleNote: _note, mppConfidence, ...fields } = grid;
  return {
    ...fields,
    mppSource: grid.mppSource as TileGrid['mppSource'],
    ...(mppConfidence !== undefined ? { mppConfidence } : {}),
  };
}

/** A model as ListModels describes it, its card whole again (typed fields and details_json). */
export function modelFromProto(model: pb.ModelInfo): ModelSummary {
  const details = (model.detailsJson ? JSON.parse(model.detailsJson) : {}) as Partial<ModelCard>;
  const card = {
    ...details,
    id: model.id,
    name: model.name,
    description: model.description,
    mpp: model.mpp,
    downsample: model.downsample,
    tileSize: model.tileSize,
    margin: model.margin,
    sizeMultiple: model.sizeMultiple,
    threshold: model.threshold,
    minArea: model.minArea,
    stain: { ...details.stain, method: model.stainMethod as NonNullable<ModelCard['stain']>['method'] },
  } as ModelCard;
  return {
    card,
    device: model.device,
    grid: model.grid ? tileGridFromProto(model.grid) : undefined,
    isDefault: model.isDefault,
  };
}

export function polygonFromProto(polygon: pb.Polygon): GlomerulusPolygon {
  return {
    exterior: ringFromProto(polygon.exterior),
    holes: polygon.holes.map(ringFromProto),
    area: polygon.area,
    meanProbability: polygon.meanProbability,
    touches: polygon.touches
      .map((edge) => TILE_EDGES.nameOrUndefined(edge))
      .filter((edge): edge is TileEdge => edge !== undefined),
  };
}

function timingsFromProto(timings: pb.Timings | undefined) {
  return {
    readMs: timings?.readMs ?? 0,
    inferenceMs: timings?.inferenceMs ?? 0,
    postprocessMs: timings?.postprocessMs ?? 0,
    queueMs: timings?.queueMs ?? 0,
  };
}

/** A tile result; the grid comes with a stream's first result only, so the caller passes the one it holds. */
export function tileOutcomeFromProto(result: pb.TileResult, grid: TileGrid): TileOutcome {
  return {
    tile: { col: result.tile?.col ?? 0, row: result.tile?.row ?? 0 },
    bounds: rectFromProto(result.bounds),
    polygons: result.polygons.map(polygonFromProto),
    cached: result.cached,
    skipped: result.skipped,
    timings: timingsFromProto(result.timings),
    requestIndex: result.requestIndex,
    grid,
    tissueFraction: result.tissueFraction,
    tissueArea: result.tissueArea,
    probabilityPng: result.probabilityPng.byteLength > 0 ? result.probabilityPng : undefined,
  };
}

/** StreamTiles replies as domain outcomes, each with the stream's grid. */
export async function* tileOutcomesFromProto(results: AsyncIterable<pb.TileResult>): AsyncGenerator<TileOutcome> {
  let grid: TileGrid | undefined;
  for await (const result of results) {
    if (result.grid) grid = tileGridFromProto(result.grid);
    if (!grid) throw new GlomsegError('INTERNAL', 'the server sent a tile result before its tile grid');
    yield tileOutcomeFromProto(result, grid);
  }
}

export function metricsFromProto(m: pb.Metrics): DiceMetrics {
  const { $typeName: _type, ...metrics } = m;
  return metrics;
}

/**
 * ScoreSlide replies as domain events: progress as it comes, and the polygon batches gathered into the one result
 * the summary ends the stream with. A stream that ends without its summary, or whose batches do not add up to
 * the count the summary gives, is incomplete: UNAVAILABLE, since a retry may complete it.
 */
export async function* scoreEventsFromProto(events: AsyncIterable<pb.ScoreSlideEvent>): AsyncGenerator<ScoreEvent> {
  const polygons: GlomerulusPolygon[] = [];
  for await (const { event } of events) {
    if (event.case === 'progress') {
      const p = event.value;
      yield {
        kind: 'progress',
        progress: {
          tilesDone: p.tilesDone,
          tilesTotal: p.tilesTotal,
          tilesSkipped: p.tilesSkipped,
          elapsedMs: p.elapsedMs,
          etaMs: p.etaMs,
        },
      };
    } else if (event.case === 'polygons') {
      if (event.value.firstIndex !== polygons.length) {
        throw new GlomsegError(
          'UNAVAILABLE',
          `polygon batch starts at ${event.value.firstIndex}, after ${polygons.length} received`,
        );
      }
      for (const polygon of event.value.polygons) polygons.push(polygonFromProto(polygon));
    } else if (event.case === 'result') {
      const r = event.value;
      if (r.polygonCount !== polygons.length) {
        throw new GlomsegError(
          'UNAVAILABLE',
          `the result counts ${r.polygonCount} polygons but ${polygons.length} arrived`,
        );
      }
      const result: ScoreResult = {
        slideId: r.slideId,
        modelId: r.modelId,
        region: rectFromProto(r.region),
        polygons,
        metrics: r.metrics ? metricsFromProto(r.metrics) : undefined,
        grid: tileGridFromProto(r.grid ?? create(pb.TileGridSchema)),
        elapsedMs: r.elapsedMs,
        totalTimings: timingsFromProto(r.totalTimings),
        tissueArea: r.tissueArea,
        warnings: [...r.warnings],
      };
      yield { kind: 'result', result };
      return;
    }
  }
  throw new GlomsegError('UNAVAILABLE', 'the ScoreSlide stream ended before its result');
}
