/**
 * glomseg.v1.Glomseg, implemented once: each method maps its request to checked domain parameters (from-proto.ts,
 * through the one validator), calls the domain service and maps what it yields back. gRPC (server/src/grpc/connect-on-grpc-js.ts), gRPC-Web and Connect (connect's router)
 * all serve this one object, so no method, mapping or protocol rule exists twice.
 */
import { create } from '@bufbuild/protobuf';
import { ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { GlomsegError, isGlomsegError } from '@glomseg/shared/errors.js';
import type { GlomsegService } from '@glomseg/shared/glomseg-service.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import type { AnnotationService } from '@glomseg/shared/reviewed-annotations.js';
import type { ModelAdaptationService } from '@glomseg/shared/adaptation.js';
import {
  adaptEventToProto,
  adaptModelParamsFromProto,
  setDefaultModelParamsFromProto,
  setDefaultModelToProto,
} from './adaptation-proto.js';
import { toConnectError } from '../error-codes.js';
import {
  annotationQueryFromProto,
  annotationVersionToProto,
  exportChunksToProto,
  saveAnnotationsParamsFromProto,
  slideAnnotationsToProto,
} from './annotations-proto.js';
import {
  listModelsParamsFromProto,
  scoreSlideParamsFromProto,
  slideRequestFromProto,
  streamTilesParamsFromProto,
} from './from-proto.js';
import {
  modelToProto,
  scoreEventToProto,
  slideInfoToProto,
  slideSummaryToProto,
  tileOutcomeToProto,
} from './to-proto.js';

type Log = (message: string) => void;

/**
 * What ends a stream whose call was aborted: its own error when it has one, else CANCELLED. A transport throws its
 * write failure into a stream whose client went away (or was reset for not reading: web/write-stall.ts); that is
 * the client's leaving, not our bug.
 */
function clientGone(error: unknown): unknown {
  return isGlomsegError(error) || error instanceof ConnectError
    ? error
    : new GlomsegError('CANCELLED', 'the client went away', { cause: error });
}

/** The service's adaptation, or FAILED_PRECONDITION on a server that cannot adapt. */
function adaptationOf(service: GlomsegService): ModelAdaptationService {
  if (service.adaptation) return service.adaptation;
  throw new GlomsegError(
    'FAILED_PRECONDITION',
    'this server cannot adapt models (it was started without a model registry)',
  );
}

/** The service's annotation store, or FAILED_PRECONDITION on a server that keeps none. */
function annotationsOf(service: GlomsegService): AnnotationService {
  if (service.annotations) return service.annotations;
  throw new GlomsegError(
    'FAILED_PRECONDITION',
    'this server keeps no annotations: start it with glomseg serve (its --data-dir holds them)',
  );
}

export function createGlomsegServiceImpl(service: GlomsegService, log?: Log): ServiceImpl<typeof pb.Glomseg> {
  const unary =
    <Req, Res>(body: (request: Req, signal: AbortSignal, context: HandlerContext) => Promise<Res>) =>
    async (request: Req, context: HandlerContext): Promise<Res> => {
      try {
        return await body(request, context.signal, context);
      } catch (error) {
        throw toConnectError(error, log);
      }
    };
  const stream = <Req, Res>(body: (request: Req, signal: AbortSignal) => AsyncIterable<Res>) =>
    async function* (request: Req, context: HandlerContext): AsyncGenerator<Res> {
      try {
        yield* body(request, context.signal);
      } catch (error) {
        throw toConnectError(context.signal.aborted ? clientGone(error) : error, log);
      }
    };

  return {
    listSlides: unary(async (_request: pb.ListSlidesRequest, signal) =>
      create(pb.ListSlidesResponseSchema, { slides: (await service.listSlides(signal)).map(slideSummaryToProto) }),
    ),

    getSlideInfo: unary(async (request: pb.GetSlideInfoRequest, signal) =>
      slideInfoToProto(await service.getSlideInfo(slideRequestFromProto(request), signal)),
    ),

    listModels: unary(async (request: pb.ListModelsRequest, signal) => {
      const models = await service.listModels(listModelsParamsFromProto(request), signal);
      return create(pb.ListModelsResponseSchema, { models: models.map(modelToProto) });
    }),

    // The grid travels with the first result only: it is the same for every tile of the stream.
    streamTiles: stream(async function* (request: pb.StreamTilesRequest, signal) {
      let first = true;
      for await (const outcome of service.streamTiles(streamTilesParamsFromProto(request), signal)) {
        yield tileOutcomeToProto(outcome, first);
        first = false;
      }
    }),

    scoreSlide: stream(async function* (request: pb.ScoreSlideRequest, signal) {
      for await (const event of service.scoreSlide(scoreSlideParamsFromProto(request), signal))
        yield* scoreEventToProto(event);
    }),

    // The author is the caller's token's name: the use case resolves it from the header the edge accepted.
    saveAnnotations: unary(async (request: pb.SaveAnnotationsRequest, signal, context) => {
      const caller = { authorization: context.requestHeader.get('authorization') ?? undefined };
      const version = await annotationsOf(service).save(saveAnnotationsParamsFromProto(request), caller, signal);
      return annotationVersionToProto(version);
    }),

    listAnnotations: unary(async (request: pb.ListAnnotationsRequest, signal) => {
      const versions = await annotationsOf(service).list(annotationQueryFromProto(request), signal);
      return create(pb.ListAnnotationsResponseSchema, { versions: versions.map(annotationVersionToProto) });
    }),

    getAnnotations: unary(async (request: pb.GetAnnotationsRequest, signal) =>
      slideAnnotationsToProto(await annotationsOf(service).get(annotationQueryFromProto(request), signal)),
    ),

    exportAnnotations: stream(async function* (request: pb.ExportAnnotationsRequest, signal) {
      const { version, text } = await annotationsOf(service).exportGeoJson(annotationQueryFromProto(request), signal);
      yield* exportChunksToProto(version, text);
    }),

    adaptModel: stream(async function* (request: pb.AdaptModelRequest, signal) {
      for await (const event of adaptationOf(service).adapt(adaptModelParamsFromProto(request), signal))
        yield adaptEventToProto(event);
    }),

    setDefaultModel: unary(async (request: pb.SetDefaultModelRequest, signal) =>
      setDefaultModelToProto(await adaptationOf(service).setDefault(setDefaultModelParamsFromProto(request), signal)),
    ),
  };
}
