/**
 * Domain -> wire on the client side: the requests the CLI, the benches, the plugin and the tests send. The server
 * checks them (api/src/server/); the way back is client/from-proto.ts.
 */
import { create } from '@bufbuild/protobuf';
import type { ListModelsParams, ScoreSlideParams, StreamTilesParams } from '@glomseg/shared/glomseg-service.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { ANNOTATION_FORMATS, STAIN_NORMALIZATIONS } from '../wire-enums.js';
import { rectToProto } from '../wire-shapes.js';

/** A client's StreamTiles request. */
export function streamTilesRequestToProto(params: StreamTilesParams): pb.StreamTilesRequest {
  return create(pb.StreamTilesRequestSchema, {
    slideId: params.slideId,
    modelId: params.modelId ?? '',
    tiles: params.tiles.map((tile) => create(pb.TileAddressSchema, tile)),
    mppOverride: params.mppOverride,
    threshold: params.threshold,
    stainNormalization: STAIN_NORMALIZATIONS.wire(params.stainNormalization ?? 'auto'),
    includeBackground: params.includeBackground ?? false,
    includeProbabilities: params.includeProbabilities ?? false,
  });
}

/** A client's ScoreSlide request. */
export function scoreSlideRequestToProto(params: ScoreSlideParams): pb.ScoreSlideRequest {
  return create(pb.ScoreSlideRequestSchema, {
    slideId: params.slideId,
    modelId: params.modelId ?? '',
    region: params.region ? rectToProto(params.region) : undefined,
    annotations: params.annotations
      ? create(pb.AnnotationsSchema, {
          content: params.annotations.content,
          format: ANNOTATION_FORMATS.wire(params.annotations.format),
          name: params.annotations.name ?? '',
          truthClasses: params.annotations.classes ?? [],
        })
      : undefined,
    mppOverride: params.mppOverride,
    threshold: params.threshold,
    diceTileWidth: params.diceTileWidth,
    diceTileHeight: params.diceTileHeight,
    stainNormalization: STAIN_NORMALIZATIONS.wire(params.stainNormalization ?? 'auto'),
    includeBackground: params.includeBackground ?? false,
    viewerGrid: params.viewerGrid ?? false,
  });
}

/** A client's ListModels request. */
export function listModelsRequestToProto(params: ListModelsParams): pb.ListModelsRequest {
  return create(pb.ListModelsRequestSchema, { slideId: params.slideId ?? '', mppOverride: params.mppOverride });
}
