/**
 * AdaptModel on the client side: the request from the plain parameters, and the streamed events as shared/'s
 * AdaptEvent. The server's side is api/src/server/adaptation-proto.ts.
 */
import { create } from '@bufbuild/protobuf';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { AdaptEvent, AdaptModelParams, AdaptPhase, HeldOutFigures } from '@glomseg/shared/adaptation.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { modelFromProto } from './from-proto.js';

export function adaptModelRequestToProto(params: AdaptModelParams): pb.AdaptModelRequest {
  return create(pb.AdaptModelRequestSchema, {
    modelId: params.modelId ?? '',
    slideIds: params.slideIds,
    maxSteps: params.maxSteps,
    maxMinutes: params.maxMinutes,
    heldOutFraction: params.heldOutFraction,
    makeDefault: params.makeDefault === true,
  });
}

function figuresFromProto(figures: pb.HeldOutFigures | undefined): HeldOutFigures {
  if (!figures) throw new GlomsegError('UNAVAILABLE', 'the server sent an adaptation result without its figures');
  const { $typeName: _type, ...fields } = figures;
  return fields;
}

/** One event of the stream; undefined for a kind this client does not know (a newer server's). */
export function adaptEventFromProto(event: pb.AdaptModelEvent): AdaptEvent | undefined {
  const { case: kind, value } = event.event;
  if (kind === 'progress') {
    const { phase, step, steps, loss, etaSeconds } = value;
    return { kind, progress: { phase: phase as AdaptPhase, step, steps, loss, etaSeconds } };
  }
  if (kind !== 'result') return undefined;
  if (!value.model) throw new GlomsegError('UNAVAILABLE', 'the server sent an adaptation result without its model');
  return {
    kind,
    result: {
      model: modelFromProto(value.model).card,
      parentId: value.parentId,
      before: figuresFromProto(value.before),
      after: figuresFromProto(value.after),
      steps: value.steps,
      trainingSeconds: value.trainingSeconds,
      trainedRegions: value.trainedRegions,
      heldOutRegions: value.heldOutRegions,
      isDefault: value.isDefault,
    },
  };
}
