/**
 * SaveAnnotations and the other store calls at the edge: sizes bounded before anything is built from the wire
 * message, every ring and field checked in words that name it, a glomerulus without a source refused; the
 * replies map back whole, and an export's pieces stay under the 1 MiB message promise.
 */
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { SaveAnnotationsParams } from '@glomseg/shared/reviewed-annotations.js';
import * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import {
  annotationQueryFromProto,
  exportChunksToProto,
  saveAnnotationsParamsFromProto,
  slideAnnotationsToProto,
} from '@glomseg/api/server/annotations-proto.js';
import {
  exportTextFromProto,
  saveAnnotationsRequestToProto,
  slideAnnotationsFromProto,
} from '@glomseg/api/client/annotations-proto.js';
import { ANNOTATION_LIMITS } from '@glomseg/api/server/request-fields.js';

const square = (x: number, y: number, size: number): Array<[number, number]> => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];

function save(overrides: Partial<SaveAnnotationsParams> = {}): SaveAnnotationsParams {
  return {
    slideId: 'a.tif',
    baseVersion: 0,
    note: '',
    regions: [
      {
        id: 'r1',
        outline: square(0, 0, 1000),
        glomeruli: [{ exterior: square(10, 10, 100), holes: [square(20, 20, 10)], source: 'drawn' }],
      },
    ],
    ...overrides,
  };
}

function refusal(check: () => unknown): string {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('INVALID_ARGUMENT');
    return (error as GlomsegError).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

const fromWire = (params: SaveAnnotationsParams) =>
  saveAnnotationsParamsFromProto(saveAnnotationsRequestToProto(params));

describe('SaveAnnotations at the edge', () => {
  it('round-trips a save through the wire', () => {
    const checked = fromWire(save({ baseVersion: 3, note: 'fixed two misses' }));
    expect({ ...checked }).toEqual(save({ baseVersion: 3, note: 'fixed two misses' }));
  });

  it('numbers regions sent without an id and refuses an id used twice', () => {
    const two = save().regions[0];
    expect(fromWire(save({ regions: [{ ...two, id: '' }] })).regions[0].id).toBe('region-1');
    expect(refusal(() => fromWire(save({ regions: [two, two] })))).toMatch(/regions\[1\]\.id 'r1' is used twice/);
  });

  it('refuses a glomerulus that does not say where it came from', () => {
    const request = saveAnnotationsRequestToProto(save());
    request.regions[0].glomeruli[0].source = pb.GlomerulusSource.UNSPECIFIED;
    expect(refusal(() => saveAnnotationsParamsFromProto(request))).toMatch(/glomeruli\.source 0 is not one of/);
  });

  it('refuses odd coordinate lists, rings under 3 points and points that are not finite pixels', () => {
    const request = saveAnnotationsRequestToProto(save());
    request.regions[0].outline!.xy.push(5);
    expect(refusal(() => saveAnnotationsParamsFromProto(request))).toMatch(/regions\[0\]\.outline has 9 coordinates/);
    const line = save({
      regions: [
        {
          ...save().regions[0],
          outline: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
    });
    expect(refusal(() => fromWire(line))).toMatch(/regions\[0\]\.outline has 2 points; a polygon needs at least 3/);
    const far = save().regions[0];
    far.glomeruli[0].exterior[1] = [2 ** 31, 0];
    expect(refusal(() => fromWire(save({ regions: [far] })))).toMatch(/glomeruli\[0\]\.exterior point 1/);
    const nan = save().regions[0];
    nan.glomeruli[0].holes[0][2] = [Number.NaN, 1];
    expect(refusal(() => fromWire(save({ regions: [nan] })))).toMatch(/holes\[0\] point 2 \(NaN, 1\)/);
  });

  it('bounds regions, glomeruli, vertices per polygon and in all, and the texts, before building anything', () => {
    const region = save().regions[0];
    const many = Array.from({ length: ANNOTATION_LIMITS.regions + 1 }, (_, i) => ({ ...region, id: `r${i}` }));
    expect(refusal(() => fromWire(save({ regions: many })))).toMatch(/1001 reviewed regions; at most 1000/);
    const crowded = {
      ...region,
      glomeruli: Array.from({ length: ANNOTATION_LIMITS.glomeruli + 1 }, () => region.glomeruli[0]),
    };
    expect(refusal(() => fromWire(save({ regions: [crowded] })))).toMatch(/5001 glomeruli; at most 5000/);
    const ring = Array.from({ length: ANNOTATION_LIMITS.verticesPerPolygon + 1 }, (_, i): [number, number] => [
      i,
      i % 2,
    ]);
    expect(refusal(() => fromWire(save({ regions: [{ ...region, outline: ring }] })))).toMatch(
      /outline has 10001 points; at most 10000/,
    );
    const big = Array.from({ length: 5 }, (_, i) => ({ ...region, id: `r${i}`, outline: ring.slice(0, 9000) }));
    expect(refusal(() => fromWire(save({ regions: big })))).toMatch(/45\d\d\d vertices in all; at most 40000/);
    expect(refusal(() => fromWire(save({ note: 'x'.repeat(1001) })))).toMatch(/note is 1001 characters long/);
    expect(refusal(() => fromWire(save({ regions: [{ ...region, id: 'y'.repeat(201) }] })))).toMatch(/id is 201/);
    expect(refusal(() => fromWire(save({ slideId: '' })))).toMatch(/slide_id is required/);
  });

  it('takes a version from 1, unset for the latest', () => {
    expect(annotationQueryFromProto(create(pb.GetAnnotationsRequestSchema, { slideId: 'a' })).version).toBeUndefined();
    expect(annotationQueryFromProto(create(pb.GetAnnotationsRequestSchema, { slideId: 'a', version: 2 })).version).toBe(
      2,
    );
    expect(
      refusal(() => annotationQueryFromProto(create(pb.ExportAnnotationsRequestSchema, { slideId: 'a', version: 0 }))),
    ).toMatch(/version 0 must be a version number from 1/);
  });
});

describe('the replies', () => {
  const version = {
    slideId: 'a.tif',
    version: 2,
    author: 'alice',
    savedAt: '2026-12-07T05:00:00.000Z',
    regionCount: 1,
    glomerulusCount: 1,
    note: '',
  };

  it('map a saved version back whole', () => {
    const annotations = { version, regions: save().regions };
    expect(slideAnnotationsFromProto(slideAnnotationsToProto(annotations))).toEqual(annotations);
  });

  it('cut an export into pieces under 1 MiB each that join into the text, surrogate pairs kept whole', async () => {
    const text = `${'a'.repeat(300_000)}😀${'é'.repeat(300_000)}`;
    const chunks = [...exportChunksToProto(version, text, 300_001)];
    expect(chunks.map((c) => c.text.length)).toEqual([300_000, 300_001, 1]);
    for (const chunk of chunks) expect(new TextEncoder().encode(chunk.text).length).toBeLessThan(1024 * 1024);
    async function* stream() {
      yield* chunks;
    }
    expect(await exportTextFromProto(stream())).toEqual({ version, text });
    expect([...exportChunksToProto(version, '')]).toHaveLength(1);
  });
});
