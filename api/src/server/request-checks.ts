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
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { AnnotationQuery, SaveAnnotationsParams } from '@glomseg/shared/reviewed-annotations.js';
import type { AdaptModelParams, SetDefaultModelParams } from '@glomseg/shared/adaptation.js';
import {
  ANNOTATION_LIMITS,
  validAnnotationCounts,
  validBaseVersion,
  validRing,
  validText,
  validVersion,
  validDiceTileEdge,
  validMppOverride,
  validOptionalSlideId,
  validRegion,
  validSlideId,
  validThreshold,
  validTileIndex,
  validTiles,
  validTruthClasses,
  optionalInRange,
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
    includeProbabilities: params.includeProbabilities,
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
    viewerGrid: params.viewerGrid,
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

export function checkAnnotationQuery(params: AnnotationQuery): Checked<AnnotationQuery> {
  return checked({ slideId: validSlideId(params.slideId), version: validVersion('version', params.version) });
}

/**
 * A save, sizes first (regions, glomeruli, vertices), then point by point; regions left without an id are
 * numbered, and ids must be unique.
 */
export function checkSaveAnnotations(params: SaveAnnotationsParams): Checked<SaveAnnotationsParams> {
  const { regions } = params;
  validAnnotationCounts(
    regions.map((region) => ({
      rings: [region.outline, ...region.glomeruli.flatMap((g) => [g.exterior, ...g.holes])].map((r) => r.length),
      glomeruli: region.glomeruli.length,
    })),
  );
  const ids = new Set<string>();
  const checkedRegions = regions.map((region, r) => {
    const id = validText(`regions[${r}].id`, region.id.trim(), ANNOTATION_LIMITS.idLength) || `region-${r + 1}`;
    if (ids.has(id)) throw new GlomsegError('INVALID_ARGUMENT', `regions[${r}].id '${id}' is used twice`);
    ids.add(id);
    return {
      id,
      outline: validRing(`regions[${r}].outline`, region.outline),
      glomeruli: region.glomeruli.map((glomerulus, g) => {
        const field = `regions[${r}].glomeruli[${g}]`;
        return {
          exterior: validRing(`${field}.exterior`, glomerulus.exterior),
          holes: glomerulus.holes.map((hole, h) => validRing(`${field}.holes[${h}]`, hole)),
          source: glomerulus.source,
        };
      }),
    };
  });
  return checked({
    slideId: validSlideId(params.slideId),
    baseVersion: validBaseVersion(params.baseVersion),
    regions: checkedRegions,
    note: validText('note', params.note, ANNOTATION_LIMITS.noteLength),
  });
}

/** Slides one adaptation may learn from, and its step bound (the server also caps the minutes it allows). */
export const ADAPT_REQUEST_LIMITS = { slides: 100, maxSteps: 20_000, maxMinutes: 600, modelIdLength: 128 } as const;

export function checkAdaptModel(params: AdaptModelParams): Checked<AdaptModelParams> {
  const { slides, maxSteps, maxMinutes, modelIdLength } = ADAPT_REQUEST_LIMITS;
  if (params.slideIds.length === 0)
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      'slide_ids is empty: name the slides whose reviewed regions to learn from',
    );
  if (params.slideIds.length > slides)
    throw new GlomsegError('INVALID_ARGUMENT', `${params.slideIds.length} slide_ids; at most ${slides}`);
  const steps = optionalInRange('max_steps', params.maxSteps, { min: 1, max: maxSteps });
  if (steps !== undefined && !Number.isInteger(steps))
    throw new GlomsegError('INVALID_ARGUMENT', `max_steps must be a whole number, got ${steps}`);
  return checked({
    modelId: validText('model_id', params.modelId ?? '', modelIdLength) || undefined,
    slideIds: [...new Set(params.slideIds.map(validSlideId))],
    maxSteps: steps,
    maxMinutes: optionalInRange('max_minutes', params.maxMinutes, { min: 0.1, max: maxMinutes }, ' min'),
    heldOutFraction: optionalInRange('held_out_fraction', params.heldOutFraction, { min: 0.05, max: 0.5 }),
    makeDefault: params.makeDefault === true,
    mppOverride: validMppOverride(params.mppOverride),
  });
}

export function checkSetDefaultModel(params: SetDefaultModelParams): Checked<SetDefaultModelParams> {
  const modelId = validText('model_id', params.modelId, ADAPT_REQUEST_LIMITS.modelIdLength);
  if (!modelId) throw new GlomsegError('INVALID_ARGUMENT', 'model_id is empty: name the model to make the default');
  return checked({ modelId });
}
