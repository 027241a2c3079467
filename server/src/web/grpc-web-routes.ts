/** The glomseg.v1.Glomseg service for connect's router: each method calls the domain service and maps the result. */
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import * as pb from '../../../gen/glomseg/v1/glomseg_pb.js';
import type { GlomsegService } from '../service/types.js';
import { toConnectError } from './error-status.js';
import {
  listModelsParamsFromProto,
  modelToProto,
  scoreEventToProto,
  scoreSlideParamsFromProto,
  slideInfoToProto,
  slideSummaryToProto,
  streamTilesParamsFromProto,
  tileOutcomeToProto,
} from '../protocol/proto-mapping.js';

type Log = ((message: string) => void) | undefined;

/** Routes for connectNodeAdapter. `context.signal` aborts when the browser aborts its fetch. */
export function glomsegRoutes(service: GlomsegService, log?: Log): (router: ConnectRouter) => void {
  const mapErrors = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw toConnectError(error, log);
    }
  };
  const mapStreamErrors = async function* <T>(stream: () => AsyncIterable<T>): AsyncGenerator<T> {
    try {
      yield* stream();
    } catch (error) {
      throw toConnectError(error, log);
    }
  };
  return (router) => {
    router.service(pb.Glomseg, {
      listSlides: (_request: pb.ListSlidesRequest, context: HandlerContext) =>
        mapErrors(async () => create(pb.ListSlidesResponseSchema, { slides: (await service.listSlides(context.signal)).map(slideSummaryToProto) })),

      getSlideInfo: (request: pb.GetSlideInfoRequest, context: HandlerContext) =>
        mapErrors(async () => slideInfoToProto(await service.getSlideInfo(request.slideId, context.signal))),

      listModels: (request: pb.ListModelsRequest, context: HandlerContext) =>
        mapErrors(async () => {
          const models = await service.listModels(listModelsParamsFromProto(request), context.signal);
          return create(pb.ListModelsResponseSchema, { models: models.map(modelToProto) });
        }),

      streamTiles: (request: pb.StreamTilesRequest, context: HandlerContext) =>
        mapStreamErrors(async function* () {
          let first = true;
          for await (const outcome of service.streamTiles(streamTilesParamsFromProto(request), context.signal)) {
            yield tileOutcomeToProto(outcome, first);
            first = false;
          }
        }),

      scoreSlide: (request: pb.ScoreSlideRequest, context: HandlerContext) =>
        mapStreamErrors(async function* () {
          for await (const event of service.scoreSlide(scoreSlideParamsFromProto(request), context.signal)) {
            yield scoreEventToProto(event);
          }
        }),
    });
  };
}
