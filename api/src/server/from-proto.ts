/**
 * Wire -> domain on the server side: each request's fields by their domain names, then the one validator
 * (request-checks.ts), so every call reaches the service checked. The way back is server/to-proto.ts; the
 * client's side is api/src/client/.
 */
import type {
  Checked,
  ListModelsParams,
  ScoreSlideParams,
  SlideRequest,
  StreamTilesParams,
} from '@glomseg/shared/glomseg-service.js';
import type * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { ANNOTATION_FORMATS, STAIN_NORMALIZATIONS } from '../wire-enums.js';
import { rectFromProto } from '../wire-shapes.js';
import { checkListModels, checkScoreSlide, checkSlideRequest, checkStreamTiles } from './request-checks.js';

export function slideRequestFromProto(request: pb.GetSlideInfoRequest): Checked<SlideRequest> {
  return checkSlideRequest({ slideId: request.slideId });
}

export function listModelsParamsFromProto(request: pb.ListModelsRequest): Checked<ListModelsParams> {
  return checkListModels({ slideId: request.slideId, mppOverride: request.mppOverride });
}

export function streamTilesParamsFromProto(request: pb.StreamTilesRequest): Checked<StreamTilesParams> {
  return checkStreamTiles({
    slideId: request.slideId,
    modelId: request.modelId,
    tiles: request.tiles.map(({ col, row }) => ({ col, row })),
    mppOverride: request.mppOverride,
    threshold: request.threshold,
    stainNormalization: STAIN_NORMALIZATIONS.name(request.stainNormalization),
    includeBackground: request.includeBackground,
    includeProbabilities: request.includeProbabilities,
  });
}

export function scoreSlideParamsFromProto(request: pb.ScoreSlideRequest): Checked<ScoreSlideParams> {
  const { annotations, region } = request;
  return checkScoreSlide({
    slideId: request.slideId,
    modelId: request.modelId,
    region: region && rectFromProto(region),
    annotations: annotations && {
      content: annotations.content,
      format: ANNOTATION_FORMATS.name(annotations.format),
      name: annotations.name,
      classes: annotations.truthClasses,
    },
    mppOverride: request.mppOverride,
    threshold: request.threshold,
    diceTileWidth: request.diceTileWidth,
    diceTileHeight: request.diceTileHeight,
    stainNormalization: STAIN_NORMALIZATIONS.name(request.stainNormalization),
    includeBackground: request.includeBackground,
    viewerGrid: request.viewerGrid,
  });
}
