/**
 * AdaptModel and SetDefaultModel, both ways on the server side: requests to checked domain parameters (through the
 * one validator) and the use case's events to replies. Beside from-proto.ts / to-proto.ts, which keep the slide
 * and scoring calls.
 */
import { create } from '@bufbuild/protobuf';
import type {
  AdaptEvent,
  AdaptModelParams,
  HeldOutFigures,
  SetDefaultModelParams,
} from '@glomseg/shared/adaptation.js';
import type { Checked } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { checkAdaptModel, checkSetDefaultModel } from './request-checks.js';
import { modelToProto } from './to-proto.js';

export function adaptModelParamsFromProto(request: pb.AdaptModelRequest): Checked<AdaptModelParams> {
  return checkAdaptModel({
    modelId: request.modelId || undefined,
    slideIds: request.slideIds,
    maxSteps: request.maxSteps,
    maxMinutes: request.maxMinutes,
    heldOutFraction: request.heldOutFraction,
    makeDefault: request.makeDefault,
    mppOverride: request.mppOverride,
  });
}

export function setDefaultModelParamsFromProto(request: pb.SetDefaultModelRequest): Checked<SetDefaultModelParams> {
  return checkSetDefaultModel({ modelId: request.modelId });
}

/** A card with no session behind it yet: its device is said when it is first used (ListModels). */
function cardToProto(card: ModelCard, isDefault: boolean): pb.ModelInfo {
  return modelToProto({ card, device: 'not loaded yet', isDefault });
}

function figuresToProto(figures: HeldOutFigures): pb.HeldOutFigures {
  return create(pb.HeldOutFiguresSchema, { ...figures });
}

export function adaptEventToProto(event: AdaptEvent): pb.AdaptModelEvent {
  if (event.kind === 'progress') {
    const { phase, step, steps, loss, etaSeconds } = event.progress;
    return create(pb.AdaptModelEventSchema, {
      event: { case: 'progress', value: { phase, step, steps, loss, etaSeconds } },
    });
  }
  const { result } = event;
  return create(pb.AdaptModelEventSchema, {
    event: {
      case: 'result',
      value: {
        model: cardToProto(result.model, result.isDefault),
        parentId: result.parentId,
        before: figuresToProto(result.before),
        after: figuresToProto(result.after),
        steps: result.steps,
        trainingSeconds: result.trainingSeconds,
        trainedRegions: result.trainedRegions,
        heldOutRegions: result.heldOutRegions,
        isDefault: result.isDefault,
      },
    },
  });
}

export function setDefaultModelToProto(outcome: { model: ModelCard; previousId: string }): pb.SetDefaultModelResponse {
  return create(pb.SetDefaultModelResponseSchema, {
    model: cardToProto(outcome.model, true),
    previousId: outcome.previousId,
  });
}
