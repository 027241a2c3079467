/**
 * What the service measures once per slide and shares between requests: the slide's survey (stain statistics,
 * tissue map) and, for slides whose file records no pixel size, the scale estimated per model. Both are made by
 * whoever asks first, not tied to that caller's signal (a caller that gives up stops waiting only), and bounded in
 * count, the recent ones kept: a server that sees thousands of slides keeps what its viewers look at now.
 */
import { LRUCache } from 'lru-cache';
import { abortable, GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelProvider } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { ScaleEstimate } from '@glomseg/shared/scale-estimate.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { estimateSlideScale } from './scale-estimator.js';
import { surveySlide, type SlideSurvey } from './slide-survey.js';

export class SlideCache {
  /** One survey per slide (a few hundred KB each). */
  private readonly surveys = new LRUCache<string, Promise<SlideSurvey>>({ max: 64 });
  private readonly scaleEstimates = new LRUCache<string, Promise<ScaleEstimate>>({ max: 256 });
  /** Ends the measurements still running when the service closes. */
  private readonly lifetime = new AbortController();

  constructor(private readonly models: ModelProvider) {}

  /** The slide's survey, measured once per slide and kept. */
  survey(source: SlideSource, signal?: AbortSignal): Promise<SlideSurvey> {
    return this.shared(this.surveys, source.metadata.id, () => surveySlide(source), signal);
  }

  /**
   * The pixel size estimated from the image, when neither the request nor the file gives one; made once per slide
   * and model (a few trial tiles per candidate scale).
   */
  async scaleEstimate(
    source: SlideSource,
    card: ModelCard,
    mppOverride: number | undefined,
    signal?: AbortSignal,
  ): Promise<ScaleEstimate | undefined> {
    if (mppOverride || (source.metadata.mppX && source.metadata.mppX > 0)) return undefined;
    // A model that finds glomeruli at several scales cannot pick one: the grid falls back to its training scale.
    if (card.estimatesScale === false) return undefined;
    const lifetime = this.lifetime.signal;
    return this.shared(
      this.scaleEstimates,
      `${source.metadata.id}|${card.id}`,
      async () => {
        // Trial tiles are ranked on the survey's tissue map (read once per slide for stain and background too).
        const tissue = this.survey(source).then(
          (survey) => survey.tissue,
          () => undefined,
        );
        const [segmenter, map] = await Promise.all([this.models.segmenter(card.id, lifetime), tissue]);
        return estimateSlideScale(source, card, segmenter, map, lifetime);
      },
      signal,
    );
  }

  close(): void {
    this.lifetime.abort(new GlomsegError('CANCELLED', 'the service is closing'));
  }

  /** The kept promise under `key`, made by `make` when there is none; a failure is not kept. */
  private shared<T>(
    cache: LRUCache<string, Promise<T>>,
    key: string,
    make: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    let promise = cache.get(key);
    if (!promise) {
      promise = make();
      cache.set(key, promise);
      promise.catch(() => {
        if (cache.peek(key) === promise) cache.delete(key);
      });
    }
    return signal ? abortable(promise, signal) : promise;
  }
}
