/** gRPC handlers for glomseg.v1.Glomseg: translate, call the domain service, translate back. Nothing else. */
import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { GlomsegError } from '@glomseg/shared/errors.js';
import * as pb from '../../../gen/glomseg/v1/glomseg_pb.js';
import type { GlomsegService } from '../service/types.js';
import { toGrpcError } from './status-mapping.js';
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

type Log = (message: string) => void;

function unary<Req, Res>(log: Log, body: (request: Req, signal: AbortSignal) => Promise<Res>) {
  return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort(new GlomsegError('CANCELLED', 'the client cancelled the call')));
    body(call.request, controller.signal).then(
      (response) => callback(null, response),
      (error) => callback(toGrpcError(error, log) as grpc.ServiceError),
    );
  };
}

/** Pulls the domain stream one item at a time, so a slow client slows the work (backpressure). */
function serverStream<Req, Out>(log: Log, body: (request: Req, signal: AbortSignal) => AsyncIterable<Out>, toProto: (item: Out, index: number) => unknown) {
  return async (call: grpc.ServerWritableStream<Req, unknown>) => {
    const controller = new AbortController();
    const onCancel = () => controller.abort(new GlomsegError('CANCELLED', 'the client cancelled the stream'));
    call.on('cancelled', onCancel);
    try {
      let index = 0;
      for await (const item of body(call.request, controller.signal)) {
        if (controller.signal.aborted) break;
        if (!call.write(toProto(item, index++))) {
          await Promise.race([once(call, 'drain'), once(controller.signal, 'abort')]);
        }
      }
      if (!controller.signal.aborted) call.end();
    } catch (error) {
      if (!controller.signal.aborted) call.emit('error', toGrpcError(error, log));
    } finally {
      call.off('cancelled', onCancel);
    }
  };
}

export function createHandlers(service: GlomsegService, log: Log): grpc.UntypedServiceImplementation {
  return {
    ListSlides: unary(log, async (_request: pb.ListSlidesRequest, signal) =>
      create(pb.ListSlidesResponseSchema, { slides: (await service.listSlides(signal)).map(slideSummaryToProto) }),
    ),
    GetSlideInfo: unary(log, async (request: pb.GetSlideInfoRequest, signal) => slideInfoToProto(await service.getSlideInfo(request.slideId, signal))),
    ListModels: unary(log, async (request: pb.ListModelsRequest, signal) => {
      const models = await service.listModels(listModelsParamsFromProto(request), signal);
      return create(pb.ListModelsResponseSchema, { models: models.map(modelToProto) });
    }),
    StreamTiles: serverStream(log, (request: pb.StreamTilesRequest, signal) => service.streamTiles(streamTilesParamsFromProto(request), signal), (outcome, index) =>
      tileOutcomeToProto(outcome, index === 0),
    ),
    ScoreSlide: serverStream(log, (request: pb.ScoreSlideRequest, signal) => service.scoreSlide(scoreSlideParamsFromProto(request), signal), scoreEventToProto),
  };
}
