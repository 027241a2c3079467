/**
 * AdaptModel and SetDefaultModel at the edge: the request bounded and checked in words that name the field, and
 * the use case's events mapped to replies whole.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { HeldOutFigures } from '@glomseg/shared/adaptation.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import {
  adaptEventToProto,
  adaptModelParamsFromProto,
  setDefaultModelParamsFromProto,
  setDefaultModelToProto,
} from '@glomseg/api/server/adaptation-proto.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('INVALID_ARGUMENT');
    return (error as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

const request = (fields: MessageInitShape<typeof pb.AdaptModelRequestSchema>) =>
  create(pb.AdaptModelRequestSchema, { slideIds: ['a.tif'], ...fields });

describe('AdaptModel request', () => {
  it('maps a request to checked parameters: unset stays unset, slides once each', () => {
    expect(adaptModelParamsFromProto(request({ slideIds: ['a.tif', 'b.tif', 'a.tif'] }))).toEqual({
      modelId: undefined,
      slideIds: ['a.tif', 'b.tif'],
      maxSteps: undefined,
      maxMinutes: undefined,
      heldOutFraction: undefined,
      makeDefault: false,
    });
    expect(
      adaptModelParamsFromProto(
        request({
          modelId: 'm',
          maxSteps: 50,
          maxMinutes: 2.5,
          heldOutFraction: 0.25,
          makeDefault: true,
          mppOverride: 0.515,
        }),
      ),
    ).toMatchObject({
      modelId: 'm',
      maxSteps: 50,
      maxMinutes: 2.5,
      heldOutFraction: 0.25,
      makeDefault: true,
      mppOverride: 0.515,
    });
  });

  it('refuses what it cannot do, up front, naming the field', () => {
    expect(refusal(() => adaptModelParamsFromProto(request({ slideIds: [] })))).toMatch(/slide_ids is empty/);
    const many = Array.from({ length: 101 }, (_, i) => `s${i}.tif`);
    expect(refusal(() => adaptModelParamsFromProto(request({ slideIds: many })))).toMatch(/101 slide_ids; at most 100/);
    expect(refusal(() => adaptModelParamsFromProto(request({ maxSteps: 0 })))).toMatch(/max_steps 0 is outside/);
    expect(refusal(() => adaptModelParamsFromProto(request({ maxSteps: 20_001 })))).toMatch(/max_steps/);
    expect(refusal(() => adaptModelParamsFromProto(request({ maxMinutes: Number.NaN })))).toMatch(/max_minutes/);
    expect(refusal(() => adaptModelParamsFromProto(request({ heldOutFraction: 0.9 })))).toMatch(/held_out_fraction/);
    expect(refusal(() => adaptModelParamsFromProto(request({ mppOverride: -1 })))).toMatch(/mpp/);
    expect(refusal(() => adaptModelParamsFromProto(request({ slideIds: ['a.tif', ''] })))).toMatch(
      /slide_id is required/,
    );
    expect(refusal(() => adaptModelParamsFromProto(request({ modelId: 'x'.repeat(129) })))).toMatch(/model_id/);
  });
});

describe('SetDefaultModel', () => {
  it('needs a model id; replies with the default and the one it replaced', () => {
    expect(refusal(() => setDefaultModelParamsFromProto(create(pb.SetDefaultModelRequestSchema, {})))).toMatch(
      /model_id is empty/,
    );
    expect(setDefaultModelParamsFromProto(create(pb.SetDefaultModelRequestSchema, { modelId: 'm-v2' }))).toEqual({
      modelId: 'm-v2',
    });
    const reply = setDefaultModelToProto({ model: { id: 'm', name: 'M' } as ModelCard, previousId: 'm-v2' });
    expect([reply.model?.id, reply.model?.isDefault, reply.previousId]).toEqual(['m', true, 'm-v2']);
  });
});

describe('AdaptModel events', () => {
  const figures = (dice: number): HeldOutFigures => ({
    regions: 2,
    glomeruli: 3,
    predicted: 2,
    meanImageDice: dice,
    precision: 1,
    recall: 0.5,
    f1: 2 / 3,
    truePositives: 1,
    falsePositives: 0,
    falseNegatives: 1,
  });

  it('maps progress and the result', () => {
    const progress = adaptEventToProto({
      kind: 'progress',
      progress: { phase: 'training', step: 3, steps: 10, loss: 0.25, etaSeconds: 12 },
    });
    expect(progress.event).toEqual({
      case: 'progress',
      value: expect.objectContaining({ phase: 'training', step: 3, steps: 10, loss: 0.25, etaSeconds: 12 }),
    });
    const result = adaptEventToProto({
      kind: 'result',
      result: {
        model: { id: 'm-v2', name: 'M (adapted, v2)', provenance: { adaptation: { parent: 'm' } } } as never,
        parentId: 'm',
        before: figures(0.1),
        after: figures(0.8),
        steps: 40,
        trainingSeconds: 61.5,
        trainedRegions: 8,
        heldOutRegions: 2,
        isDefault: false,
      },
    });
    expect(result.event.case).toBe('result');
    if (result.event.case !== 'result') return;
    const value = result.event.value;
    expect([value.model?.id, value.parentId, value.before?.meanImageDice, value.after?.meanImageDice]).toEqual([
      'm-v2',
      'm',
      0.1,
      0.8,
    ]);
    expect(JSON.parse(value.model!.detailsJson).provenance.adaptation.parent).toBe('m');
    expect([value.steps, value.trainingSeconds, value.trainedRegions, value.heldOutRegions]).toEqual([40, 61.5, 8, 2]);
  });
});
