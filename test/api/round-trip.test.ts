/**
 * Every glomseg.v1 message, domain -> wire -> domain: the server's replies through server/to-proto.ts and back
 * through the client's client/from-proto.ts, the clients' requests through client/to-proto.ts and back through the
 * server's server/from-proto.ts (its one validator included), each through protobuf bytes as on a socket. And the
 * sides stay apart: the plugin's bundle holds none of the server's mapping or rules.
 */
import path from 'node:path';
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import {
  listModelsRequestToProto,
  scoreSlideRequestToProto,
  streamTilesRequestToProto,
} from '@glomseg/api/client/to-proto.js';
import {
  modelFromProto,
  scoreEventsFromProto,
  slideInfoFromProto,
  slideSummaryFromProto,
  tileOutcomesFromProto,
} from '@glomseg/api/client/from-proto.js';
import {
  listModelsParamsFromProto,
  scoreSlideParamsFromProto,
  slideRequestFromProto,
  streamTilesParamsFromProto,
} from '@glomseg/api/server/from-proto.js';
import {
  modelToProto,
  scoreEventToProto,
  slideInfoToProto,
  slideSummaryToProto,
  tileOutcomeToProto,
} from '@glomseg/api/server/to-proto.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type {
  ModelSummary,
  ScoreEvent,
  ScoreSlideParams,
  SlideInfo,
  StreamTilesParams,
  TileOutcome,
} from '@glomseg/shared/glomseg-service.js';
import { planTileGrid, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { fakeCard, fakeMetrics, paintedSlide } from '../helpers/fake-ports.js';
import { REPO_ROOT } from '../helpers/paths.js';

/** Through bytes, as a message crosses a socket. */
function wire<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): MessageShape<Desc> {
  return fromBinary(schema, toBinary(schema, message));
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

async function* each<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

const metadata = paintedSlide({ id: 'eval/kidney.tif' }).metadata;
/** Values a float carries exactly, so that only the mapping can change them. */
const grid: TileGrid = {
  ...planTileGrid(metadata, fakeCard()),
  mppSource: 'estimated',
  mppAssumed: 0.5,
  mppConfidence: 0.75,
};
const polygon = (x: number): GlomerulusPolygon => ({
  exterior: [
    [x, 0],
    [x + 10, 0],
    [x + 10, 8],
    [x, 8],
  ],
  holes: [
    [
      [x + 2, 2],
      [x + 4, 2],
      [x + 4, 4],
    ],
  ],
  area: 74,
  meanProbability: 0.875,
  touches: ['left', 'bottom'],
});

describe('replies: server/to-proto, then client/from-proto', () => {
  it('SlideSummary and SlideInfo, with and without stain statistics', () => {
    const summary = { id: 'eval/kidney.tif', name: 'kidney', fileSize: 123_456_789_012 };
    expect(slideSummaryFromProto(wire(pb.SlideSummarySchema, slideSummaryToProto(summary)))).toEqual(summary);

    const measured: SlideInfo = {
      ...metadata,
      levels: [
        metadata.levels[0],
        { index: 1, width: 256, height: 256, downsample: 2, tileWidth: 0, tileHeight: 0, synthesized: true },
      ],
      metadata: { 'aperio.MPP': '0.5' },
      stain: {
        statistics: { mean: [60, 20, -10], std: [12, 6, 4], tissueFraction: 0.5, tissuePixels: 4096 },
        level: 1,
        tissueMapped: true,
      },
    };
    expect(slideInfoFromProto(wire(pb.SlideInfoSchema, slideInfoToProto(measured)))).toEqual({
      ...measured,
      stain: { ...measured.stain, unmeasuredBecause: undefined },
    });
    const unmeasured: SlideInfo = {
      ...metadata,
      stain: { level: -1, tissueMapped: false, unmeasuredBecause: 'unsupported compression' },
    };
    expect(slideInfoFromProto(wire(pb.SlideInfoSchema, slideInfoToProto(unmeasured)))).toEqual({
      ...unmeasured,
      stain: { ...unmeasured.stain, statistics: undefined },
    });
  });

  it('ModelInfo: the whole card again (typed fields and details_json), with its grid and without', () => {
    const card = fakeCard({
      mpp: 2,
      downsample: 4,
      seedThreshold: 0.95,
      requireCore: true,
      stain: { method: 'reinhard', reference: { mean: [47, 36, -28], std: [10, 10, 7] } },
    });
    for (const model of [
      { card, device: 'cpu', grid, isDefault: true },
      { card, device: 'cuda', grid: undefined, isDefault: false },
    ] satisfies ModelSummary[]) {
      expect(modelFromProto(wire(pb.ModelInfoSchema, modelToProto(model)))).toEqual(model);
    }
  });

  it('TileResult: a stream of outcomes, the grid sent with the first only', async () => {
    const outcome = (col: number, cached: boolean): TileOutcome => ({
      tile: { col, row: 1 },
      bounds: { x: col * 128, y: 128, width: 128, height: 128 },
      polygons: cached ? [] : [polygon(col * 128)],
      cached,
      skipped: false,
      timings: { readMs: 1.5, inferenceMs: 20.25, postprocessMs: 0.5, queueMs: 3 },
      requestIndex: col,
      grid,
      tissueFraction: 0.625,
      tissueArea: 10240.5,
    });
    const outcomes = [
      { ...outcome(0, false), probabilityPng: new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]) },
      outcome(1, true),
      { ...outcome(2, false), skipped: true, polygons: [] },
    ];
    const sent = outcomes.map((o, i) => wire(pb.TileResultSchema, tileOutcomeToProto(o, i === 0)));
    expect(sent.map((m) => m.grid !== undefined)).toEqual([true, false, false]);
    expect(await collect(tileOutcomesFromProto(each(sent)))).toEqual(outcomes);
  });

  it('ScoreSlideEvent: progress, polygons in batches, and the result they add up to', async () => {
    const polygons = Array.from({ length: 50 }, (_, i) => polygon(i * 16));
    const events: ScoreEvent[] = [
      { kind: 'progress', progress: { tilesDone: 3, tilesTotal: 16, tilesSkipped: 1, elapsedMs: 250, etaMs: 1000 } },
      {
        kind: 'result',
        result: {
          slideId: grid.slideId,
          modelId: grid.modelId,
          region: { x: 0, y: 0, width: 512, height: 256 },
          polygons,
          metrics: fakeMetrics(),
          grid,
          elapsedMs: 1234.5,
          totalTimings: { readMs: 10, inferenceMs: 200, postprocessMs: 5, queueMs: 1 },
          tissueArea: 98304.25,
          warnings: ['2 shapes of class Tissue were left out'],
        },
      },
    ];
    // Batches of about 1 KiB: the result's polygons cross in several messages.
    const sent = events
      .flatMap((event) => [...scoreEventToProto(event, 1024)])
      .map((m) => wire(pb.ScoreSlideEventSchema, m));
    expect(sent.filter((m) => m.event.case === 'polygons').length).toBeGreaterThan(2);
    expect(await collect(scoreEventsFromProto(each(sent)))).toEqual(events);
  });
});

describe('requests: client/to-proto, then server/from-proto (checked)', () => {
  it('StreamTilesRequest', () => {
    const params: StreamTilesParams = {
      slideId: 'eval/kidney.tif',
      modelId: 'fake-unet',
      tiles: [
        { col: 2, row: 3 },
        { col: 0, row: 0 },
      ],
      mppOverride: 0.25,
      threshold: 0.75,
      stainNormalization: 'reinhard',
      includeBackground: true,
      includeProbabilities: true,
    };
    expect(streamTilesParamsFromProto(wire(pb.StreamTilesRequestSchema, streamTilesRequestToProto(params)))).toEqual(
      params,
    );
    const bare: StreamTilesParams = { slideId: 'a.tif', tiles: [{ col: 0, row: 0 }] };
    expect(streamTilesParamsFromProto(wire(pb.StreamTilesRequestSchema, streamTilesRequestToProto(bare)))).toEqual({
      ...bare,
      modelId: undefined,
      mppOverride: undefined,
      threshold: undefined,
      stainNormalization: 'auto',
      includeBackground: false,
      includeProbabilities: false,
    });
  });

  it('ScoreSlideRequest, with annotations, region and Dice grid', () => {
    const params: ScoreSlideParams = {
      slideId: 'eval/kidney.tif',
      modelId: 'fake-unet',
      region: { x: 10, y: 20, width: 300, height: 400 },
      annotations: {
        content: '{"type":"FeatureCollection","features":[]}',
        format: 'geojson',
        name: 'truth.geojson',
        classes: ['Glomerulus', 'Tissue'],
      },
      mppOverride: 0.5,
      threshold: 0.5,
      diceTileWidth: 800,
      diceTileHeight: 600,
      stainNormalization: 'off',
      includeBackground: false,
      viewerGrid: true,
    };
    expect(scoreSlideParamsFromProto(wire(pb.ScoreSlideRequestSchema, scoreSlideRequestToProto(params)))).toEqual(
      params,
    );
  });

  it('ListModelsRequest and GetSlideInfoRequest', () => {
    for (const params of [
      { slideId: 'eval/kidney.tif', mppOverride: 0.25 },
      { slideId: undefined, mppOverride: undefined },
    ]) {
      expect(listModelsParamsFromProto(wire(pb.ListModelsRequestSchema, listModelsRequestToProto(params)))).toEqual(
        params,
      );
    }
    expect(
      slideRequestFromProto(
        wire(pb.GetSlideInfoRequestSchema, create(pb.GetSlideInfoRequestSchema, { slideId: 'eval/kidney.tif' })),
      ),
    ).toEqual({ slideId: 'eval/kidney.tif' });
  });
});

describe('the sides stay apart', () => {
  it("the plugin's bundle holds the client's mapping and none of the server's (no request checks, no reply encoding)", async () => {
    const result = await build({
      entryPoints: [path.join(REPO_ROOT, 'plugin/src/index.ts')],
      bundle: true,
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      loader: { '.css': 'text' },
    });
    const inputs = Object.keys(result.metafile.inputs).map((input) => path.relative(REPO_ROOT, path.resolve(input)));
    expect(inputs).toContain('api/src/client/from-proto.ts');
    // Of api/, only the client's side and what both sides share.
    const both = ['api/src/error-codes.ts', 'api/src/wire-enums.ts', 'api/src/wire-shapes.ts'];
    const api = inputs.filter((input) => input.startsWith('api/src/'));
    expect(api.filter((input) => !input.startsWith('api/src/client/') && !both.includes(input))).toEqual([]);
  });
});
