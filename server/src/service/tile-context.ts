/**
 * Context resolution: what a request's tiles are read and cut with. First the slide, the model, its grid on the
 * slide and the cut (`open`); then, once the request's own bounds are checked, how tiles are read (`reading`: the
 * stain mapping and the tissue map, from the slide's survey, whose first making reads the slide).
 */
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelProvider, SlideProvider, TileReadingParams } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { Segmenter, TileCut } from '@glomseg/shared/segmenter.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { resolveStainMethod, type StainMapping } from '@glomseg/shared/stain-normalization.js';
import { minAreaOnSlide, planTileGrid, scoreTileSizeOf, type TileGrid } from '@glomseg/shared/tile-grid.js';
import type { TissueMap } from '@glomseg/shared/tissue-mask.js';
import type { SlideCache } from './slide-cache.js';

/** What opening a request needs of it (StreamTiles and ScoreSlide alike). */
export interface SlideModelParams {
  slideId: string;
  modelId?: string;
  mppOverride?: number;
  /** Unset: the card's. */
  threshold?: number;
}

/** What the tiles are for: a viewer's ('view', the card's small tiles, for latency) or a whole-slide score. */
export type TilePurpose = 'view' | 'score';

export interface TileContext {
  source: SlideSource;
  card: ModelCard;
  grid: TileGrid;
  segmenter: Segmenter;
  /** The threshold and the card's post-processing on this slide: how every tile of the request is cut. */
  cut: TileCut;
  /** Colour mapping applied to every tile of this slide, when normalising. */
  stain?: StainMapping;
  /** Where the tissue is, when tiles of bare glass are skipped. */
  tissue?: TissueMap;
  /** The slide's tissue map whether or not glass is skipped: what tissue areas are measured on. */
  tissueMap?: TissueMap;
  skipBackground: boolean;
}

export class TileContexts {
  constructor(
    private readonly slides: SlideProvider,
    private readonly models: ModelProvider,
    private readonly slideCache: SlideCache,
    /** ScoreSlide's tile edge in model pixels for every model; unset: each card's (scoreTileSizeOf). */
    private readonly scoreTileSize?: number,
  ) {}

  /** The model's grid on the slide: the request's pixel size, else the file's, else one estimated from the image. */
  async gridOf(
    source: SlideSource,
    card: ModelCard,
    mppOverride: number | undefined,
    signal?: AbortSignal,
    purpose: TilePurpose = 'view',
  ): Promise<TileGrid> {
    const mppEstimate = await this.slideCache.scaleEstimate(source, card, mppOverride, signal);
    const tileSize = purpose === 'score' ? scoreTileSizeOf(card, this.scoreTileSize) : card.tileSize;
    return planTileGrid(source.metadata, card, { mppOverride, mppEstimate, tileSize });
  }

  /** Slide, model, grid and cut; tiles are read as they are (`reading` says otherwise). */
  async open(params: SlideModelParams, signal: AbortSignal, purpose: TilePurpose = 'view'): Promise<TileContext> {
    const card = params.modelId ? this.models.get(params.modelId) : this.models.defaultModel();
    const source = await this.slides.open(params.slideId, signal);
    const grid = await this.gridOf(source, card, params.mppOverride, signal, purpose);
    const segmenter = await this.models.segmenter(card.id, signal);
    const { seedThreshold, requireCore } = card;
    const cut: TileCut = {
      threshold: params.threshold ?? card.threshold,
      minArea: minAreaOnSlide(card, grid),
      seedThreshold,
      requireCore,
    };
    return { source, card, grid, segmenter, cut, skipBackground: false };
  }

  /** How this request reads its tiles: the slide's colour mapping and where its tissue is, from its survey. */
  async reading(context: TileContext, params: TileReadingParams, signal: AbortSignal): Promise<TileContext> {
    const requested = params.stainNormalization ?? 'auto';
    const method = resolveStainMethod(requested, context.card);
    const skipBackground = !params.includeBackground;
    const survey = method || skipBackground ? await this.slideCache.survey(context.source, signal) : undefined;
    let stain: StainMapping | undefined;
    // 'auto' maps tiles when the slide's stain can be measured and reads them as they are when it cannot (a slide
    // that is nearly all glass); a method asked for by name is refused then, since it cannot be honoured.
    if (method && (survey?.stain || requested !== 'auto')) {
      if (!survey?.stain) {
        throw new GlomsegError(
          'FAILED_PRECONDITION',
          `slide '${context.grid.slideId}' shows too little tissue at low resolution to measure its stain; ask for stain normalisation 'off'`,
        );
      }
      stain = { method, from: survey.stain, to: context.card.stain!.reference! };
    }
    const tissueMap = survey?.tissue;
    return { ...context, stain, tissue: skipBackground ? tissueMap : undefined, tissueMap, skipBackground };
  }
}
