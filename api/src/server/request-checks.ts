/**
 * The one validator: each call's parameters, checked field by field (request-fields.ts), become the Checked
 * parameters the service takes. Every way in passes here (gRPC and gRPC-Web through from-proto.ts, the viewer's
 * HTTP tiles, callers in process), so each rule answers alike everywhere; the service checks no field again.
 */
import type {
  Checked,
  ListModelsParams,
  ScoreSlideParams,
  SlideRequest,
  StreamTilesParams,
  ViewerTileParams,
} from '@glomseg/shared/glomseg-service.js';
import {
  validDiceTileEdge,
  validMppOverride,
  validOptionalSlideId,
  validRegion,
  validSlideId,
  validThreshold,
  validTileIndex,
  validTiles,
  validTruthClasses,
} from './request-fields.js';

/** Marks parameters as checked: only the functions below may, each after its checks. */
function checked<T>(params: T): Checked<T> {
  return params as Checked<T>;
}

export function checkSlideRequest(params: SlideRequest): Checked<SlideRequest> {
  return checked({ slideId: validSlideId(params.slideId) });
}

export function checkListModels(params: ListModelsParams): Checked<ListModelsParams> {
  return checked({ slideId: validOptionalSlideId(params.slideId), mppOverride: validMppOverride(params.mppOverride) });
}

export function checkStreamTiles(params: StreamTilesParams): Checked<StreamTilesParams> {
  return checked({
    slideId: validSlideId(params.slideId),
    modelId: params.modelId || undefined,
    tiles: validTiles(params.tiles),
    mppOverride: validMppOverride(params.mppOverride),
    threshold: validThreshold(params.threshold),
    stainNormalization: params.stainNormalization,
    includeBackground: params.includeBackground,
  });
}

export function checkScoreSlide(params: ScoreSlideParams): Checked<ScoreSlideParams> {
  const { annotations } = params;
  return checked({
    slideId: validSlideId(params.slideId),
    modelId: params.modelId || undefined,
    region: validRegion(params.region),
    // Sent empty, annotations are refused by scoring (not taken for "none"), in the words of a bad file.
    annotations: annotations && {
      ...annotations,
      name: annotations.name || undefined,
      classes: validTruthClasses(annotations.classes ?? []),
    },
    mppOverride: validMppOverride(params.mppOverride),
    threshold: validThreshold(params.threshold),
    diceTileWidth: validDiceTileEdge('dice_tile_width', params.diceTileWidth),
    diceTileHeight: validDiceTileEdge('dice_tile_height', params.diceTileHeight),
    stainNormalization: params.stainNormalization,
    includeBackground: params.includeBackground,
  });
}

export function checkViewerTile(params: ViewerTileParams): Checked<ViewerTileParams> {
  return checked({
    slideId: validSlideId(params.slideId),
    level: validTileIndex('level', params.level),
    col: validTileIndex('col', params.col),
    row: validTileIndex('row', params.row),
  });
}
