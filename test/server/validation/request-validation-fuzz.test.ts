/**
 * Property-based tests of the request validation (fast-check, bounded in time): any field values become
 * in-range parameters or INVALID_ARGUMENT at the edge, and the real server over gRPC never answers them with
 * INTERNAL or UNKNOWN.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { scoreSlideParamsFromProto, streamTilesParamsFromProto } from '@glomseg/api/server/from-proto.js';
import { MPP_RANGE, THRESHOLD_RANGE } from '@glomseg/api/server/request-fields.js';
import { collect, statusOf } from '../../helpers/grpc.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const double = fc.oneof(
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    Number.NaN,
    Infinity,
    -Infinity,
    1e-50,
    2 ** 31,
    -(2 ** 31),
    0.5,
    100,
    1e308,
    Number.MIN_VALUE,
  ),
);
const float = double.map(Math.fround);
const int32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, -5, 1, 2 ** 31 - 1, -(2 ** 31)),
);
const rect = fc.record({ x: double, y: double, width: double, height: double });
// Optional fields: unset as often as any value.
const unsetOr = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });
const scoreRequest = fc.record({
  slideId: fc.oneof(fc.string({ maxLength: 8 }), fc.constant('no-such-slide.tif')),
  region: unsetOr(rect),
  mppOverride: unsetOr(double),
  threshold: unsetOr(float),
  diceTileWidth: unsetOr(int32),
  diceTileHeight: unsetOr(int32),
});
const tilesRequest = fc.record({
  slideId: fc.constant('no-such-slide.tif'),
  tiles: fc.array(fc.record({ col: int32, row: int32 }), { maxLength: 4 }),
  mppOverride: unsetOr(double),
  threshold: unsetOr(float),
});

function inRange(value: number | undefined, range: { min: number; max: number }): void {
  if (value === undefined) return;
  expect(Number.isFinite(value) && value >= range.min && value <= range.max).toBe(true);
}

function validOrInvalidArgument(run: () => void): void {
  try {
    run();
  } catch (error) {
    if (!isGlomsegError(error) || error.code !== 'INVALID_ARGUMENT') throw error;
  }
}

describe('request validation under fuzzing', () => {
  it('ScoreSlideRequest fields become in-range parameters or INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(scoreRequest, (fields) =>
        validOrInvalidArgument(() => {
          const params = scoreSlideParamsFromProto(
            create(pb.ScoreSlideRequestSchema, {
              ...fields,
              region: fields.region && create(pb.RectSchema, fields.region),
            }),
          );
          inRange(params.mppOverride, MPP_RANGE);
          // A float on the wire, checked at float precision.
          inRange(params.threshold, { min: Math.fround(THRESHOLD_RANGE.min), max: Math.fround(THRESHOLD_RANGE.max) });
          for (const edge of [params.diceTileWidth, params.diceTileHeight])
            if (edge !== undefined) expect(Number.isInteger(edge) && edge >= 1).toBe(true);
          if (params.region) {
            expect(Object.values(params.region).every(Number.isFinite)).toBe(true);
            expect(params.region.width > 0 && params.region.height > 0).toBe(true);
          }
        }),
      ),
      { numRuns: 2000, interruptAfterTimeLimit: 4000 },
    );
  });

  it('StreamTilesRequest fields become whole, non-negative tiles or INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(tilesRequest, (fields) =>
        validOrInvalidArgument(() => {
          const params = streamTilesParamsFromProto(create(pb.StreamTilesRequestSchema, fields));
          for (const t of params.tiles)
            expect(Number.isInteger(t.col) && t.col >= 0 && Number.isInteger(t.row) && t.row >= 0).toBe(true);
        }),
      ),
      { numRuns: 2000, interruptAfterTimeLimit: 4000 },
    );
  });
});

describe('the real server under fuzzed requests', () => {
  const served = useGrpcApp();

  it('answers every fuzzed ScoreSlide and StreamTiles with a client status, never INTERNAL or UNKNOWN', async () => {
    const allowed = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND]);
    await fc.assert(
      fc.asyncProperty(scoreRequest, tilesRequest, async (score, tiles) => {
        // Unknown slides only: every request ends at validation or the slide lookup, before any inference.
        const a = await statusOf(collect(served.client.scoreSlide({ ...score, slideId: `fuzz/${score.slideId}` })));
        const b = await statusOf(collect(served.client.streamTiles(tiles)));
        expect(allowed.has(a.code), `${a.code} ${a.details}`).toBe(true);
        expect(allowed.has(b.code), `${b.code} ${b.details}`).toBe(true);
      }),
      { numRuns: 150, interruptAfterTimeLimit: 15_000 },
    );
  }, 60_000);
});
