/**
 * The glomseg domain service: slides in, glomerulus polygons out. Yields AsyncIterables and knows nothing of
 * gRPC; the protocol layers translate, and check every request (api/src/server/request-checks.ts) before it comes here.
 * A thin facade over its parts: the tile runner (one scheduler and result cache for all streams), the per-slide
 * cache, context resolution, and the two use cases (stream-tiles.ts, score-slide.ts).
 */
import type {
  Checked,
  GlomsegService,
  ListModelsParams,
  ModelProvider,
  ModelSummary,
  ScoreEvent,
  ScoreSlideParams,
  SlideInfo,
  SlideProvider,
  SlideRequest,
  SlideSummary,
  StreamTilesParams,
  TileOutcome,
  TruthScorer,
  ViewerTile,
  ViewerTileParams,
} from '@glomseg/shared/glomseg-service.js';
import type { AnnotationService } from '@glomseg/shared/reviewed-annotations.js';
import type { ModelAdaptationService } from '@glomseg/shared/adaptation.js';
import { resolveLimits, type ServingLimits } from '../validation/limits.js';
import { scoreSlide, type ScoreSlideParts } from './score-slide.js';
import { SlideCache } from './slide-cache.js';
import { StreamCounter, type StreamCounts } from './stream-counter.js';
import { streamTiles } from './stream-tiles.js';
import { TileContexts } from './tile-context.js';
import { TileRunner, type TileCounts, type TileRunnerOptions } from './tile-runner.js';
import type { SchedulerStats } from './tile-scheduler.js';
import { readViewerTile } from './viewer-tiles.js';

export interface ServiceOptions extends TileRunnerOptions {
  slides: SlideProvider;
  models: ModelProvider;
  scoring: TruthScorer;
  /** Cost bounds checked before work starts (tiles per request, Dice grid, annotation size). */
  limits?: Partial<ServingLimits>;
  /** ScoreSlide's tile edge in model pixels for every model; unset: each card's scoreTileSize, else its tileSize. */
  scoreTileSize?: number;
  /** The annotation store's use case (reviewed-annotations.ts); unset: the server keeps no annotations. */
  annotations?: AnnotationService;
}

export type ServiceStats = StreamCounts &
  TileCounts & { scheduler: SchedulerStats; cache: { entries: number; bytes: number } };

export class DomainGlomsegService implements GlomsegService {
  readonly limits: ServingLimits;
  private readonly runner: TileRunner;
  private readonly slideCache: SlideCache;
  private readonly contexts: TileContexts;
  /** What the use cases work with. */
  private readonly parts: ScoreSlideParts;
  private readonly streams = new StreamCounter();
  readonly annotations?: AnnotationService;
  /** AdaptModel and SetDefaultModel: set by the process that has a model registry (app.ts). */
  adaptation?: ModelAdaptationService;

  constructor(private readonly options: ServiceOptions) {
    this.limits = resolveLimits(options.limits);
    this.annotations = options.annotations;
    this.runner = new TileRunner(options);
    this.slideCache = new SlideCache(options.models);
    this.contexts = new TileContexts(options.slides, options.models, this.slideCache, options.scoreTileSize);
    this.parts = { contexts: this.contexts, runner: this.runner, scoring: options.scoring, limits: this.limits };
  }

  listSlides(signal?: AbortSignal): Promise<SlideSummary[]> {
    return this.options.slides.list(signal);
  }

  async getSlideInfo({ slideId }: Checked<SlideRequest>, signal?: AbortSignal): Promise<SlideInfo> {
    const source = await this.options.slides.open(slideId, signal);
    // A slide whose pixels cannot be read (an unsupported compression) is still described; its stain is not.
    const survey = await this.slideCache.survey(source, signal).catch((error: unknown) => {
      if (signal?.aborted) throw error;
      return { failure: (error as Error)?.message ?? String(error) };
    });
    if ('failure' in survey)
      return { ...source.metadata, stain: { level: -1, tissueMapped: false, unmeasuredBecause: survey.failure } };
    const unmeasuredBecause = survey.stain ? undefined : 'the low-resolution view shows too little tissue';
    return {
      ...source.metadata,
      stain: {
        statistics: survey.stain,
        level: survey.level,
        tissueMapped: survey.tissue !== undefined,
        unmeasuredBecause,
      },
    };
  }

  async listModels({ slideId, mppOverride }: Checked<ListModelsParams>, signal?: AbortSignal): Promise<ModelSummary[]> {
    const source = slideId === undefined ? undefined : await this.options.slides.open(slideId, signal);
    const summaries: ModelSummary[] = [];
    const defaultId = this.options.models.defaultModel().id;
    for (const card of this.options.models.list()) {
      const grid = source ? await this.contexts.gridOf(source, card, mppOverride, signal) : undefined;
      summaries.push({ card, device: this.options.models.deviceOf(card.id), grid, isDefault: card.id === defaultId });
    }
    return summaries;
  }

  async readViewerTile(
    { slideId, level, col, row }: Checked<ViewerTileParams>,
    signal?: AbortSignal,
  ): Promise<ViewerTile> {
    return readViewerTile(await this.options.slides.open(slideId, signal), level, col, row, signal);
  }

  streamTiles(params: Checked<StreamTilesParams>, signal: AbortSignal): AsyncIterable<TileOutcome> {
    return this.streams.track(signal, () => streamTiles(this.parts, params, signal));
  }

  scoreSlide(params: Checked<ScoreSlideParams>, signal: AbortSignal): AsyncIterable<ScoreEvent> {
    return this.streams.track(signal, () => scoreSlide(this.parts, params, signal));
  }

  stats(): ServiceStats {
    return { ...this.streams.stats(), ...this.runner.stats() };
  }

  async close(): Promise<void> {
    this.slideCache.close();
    this.runner.close();
  }
}

export function createGlomsegService(options: ServiceOptions): DomainGlomsegService {
  return new DomainGlomsegService(options);
}
