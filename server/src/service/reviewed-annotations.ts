/**
 * The annotation store's use case: saves a slide's reviewed regions as its next version, one writer at a time
 * per slide (a save edited from a version that is no longer the latest is refused with ABORTED, saying who saved
 * what when), and reads versions back: listed, whole, as QuPath GeoJSON, and as the reviewed regions AdaptModel
 * trains on (the ReviewedRegionSource port of shared/src/adaptation.ts).
 */
import type { ReviewedRegion, ReviewedRegionSource } from '@glomseg/shared/adaptation.js';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { Checked, SlideProvider } from '@glomseg/shared/glomseg-service.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import type {
  AnnotationQuery,
  AnnotationService,
  AnnotationStore,
  AnnotationVersionInfo,
  Caller,
  CallerNames,
  SaveAnnotationsParams,
  SlideAnnotations,
} from '@glomseg/shared/reviewed-annotations.js';
import { annotationsToGeoJson } from './annotations-geojson.js';

export interface ReviewedAnnotationParts {
  store: AnnotationStore;
  names: CallerNames;
  /** To refuse a save for a slide that is not served, or regions off it. */
  slides: SlideProvider;
  now?: () => Date;
}

function describeVersion(v: AnnotationVersionInfo): string {
  return `version ${v.version} by ${v.author} at ${v.savedAt}`;
}

/** The refusal of a save that lost the race: who saved what when, and what to do. */
function conflict(slideId: string, base: number, latest: AnnotationVersionInfo): GlomsegError {
  const started = base === 0 ? 'from no saved version' : `from version ${base}`;
  return new GlomsegError(
    'ABORTED',
    `slide '${slideId}' was saved meanwhile (${describeVersion(latest)}); this edit started ${started}: load version ${latest.version}, redo the changes on it and save again`,
  );
}

export class ReviewedAnnotations implements AnnotationService, ReviewedRegionSource {
  /** The save in progress per slide: a second waits for it (one writer at a time), then finds its base stale. */
  private readonly writers = new Map<string, Promise<unknown>>();
  private readonly now: () => Date;

  constructor(private readonly parts: ReviewedAnnotationParts) {
    this.now = parts.now ?? (() => new Date());
  }

  async save(params: Checked<SaveAnnotationsParams>, caller: Caller, signal: AbortSignal) {
    const author = this.parts.names.nameOf(caller);
    const { width, height } = (await this.parts.slides.open(params.slideId, signal)).metadata;
    params.regions.forEach((region, index) => {
      const box = polygonBBox({ exterior: region.outline, holes: [] });
      if (box.x >= width || box.y >= height || box.x + box.width <= 0 || box.y + box.height <= 0) {
        throw new GlomsegError(
          'INVALID_ARGUMENT',
          `regions[${index}] ('${region.id}') lies off the slide (${width} x ${height} pixels): wrong slide or scale?`,
        );
      }
    });
    return this.oneWriter(params.slideId, () => this.append(params, author, signal));
  }

  private async oneWriter<T>(slideId: string, write: () => Promise<T>): Promise<T> {
    const before = this.writers.get(slideId) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(write);
    this.writers.set(slideId, mine);
    try {
      return await mine;
    } finally {
      if (this.writers.get(slideId) === mine) this.writers.delete(slideId);
    }
  }

  private async append(params: Checked<SaveAnnotationsParams>, author: string, signal: AbortSignal) {
    throwIfAborted(signal);
    const { slideId, baseVersion, regions, note } = params;
    const [latest] = await this.parts.store.versions(slideId, signal);
    const current = latest?.version ?? 0;
    if (latest && baseVersion < current) throw conflict(slideId, baseVersion, latest);
    if (baseVersion > current) {
      throw new GlomsegError(
        'FAILED_PRECONDITION',
        `slide '${slideId}' has no version ${baseVersion} to edit from; its latest is ${current === 0 ? 'none (base_version 0)' : current}`,
      );
    }
    const version: AnnotationVersionInfo = {
      slideId,
      version: current + 1,
      author,
      savedAt: this.now().toISOString(),
      regionCount: regions.length,
      glomerulusCount: regions.reduce((sum, region) => sum + region.glomeruli.length, 0),
      note,
    };
    // Past this point the write is not cancelled: it ends stored or not at all, never half.
    const outcome = await this.parts.store.append({ version, regions }, new AbortController().signal);
    if (!outcome.stored) throw conflict(slideId, baseVersion, outcome.latest);
    return version;
  }

  list({ slideId }: Checked<AnnotationQuery>, signal: AbortSignal): Promise<AnnotationVersionInfo[]> {
    return this.parts.store.versions(slideId, signal);
  }

  async get({ slideId, version }: Checked<AnnotationQuery>, signal: AbortSignal): Promise<SlideAnnotations> {
    const [latest] = await this.parts.store.versions(slideId, signal);
    if (!latest) throw new GlomsegError('NOT_FOUND', `no annotations have been saved for slide '${slideId}'`);
    const wanted = version ?? latest.version;
    const found = wanted <= latest.version ? await this.parts.store.read(slideId, wanted, signal) : undefined;
    if (!found)
      throw new GlomsegError(
        'NOT_FOUND',
        `slide '${slideId}' has no annotation version ${wanted} (latest: ${latest.version})`,
      );
    return found;
  }

  async exportGeoJson(query: Checked<AnnotationQuery>, signal: AbortSignal) {
    const annotations = await this.get(query, signal);
    return { version: annotations.version, text: annotationsToGeoJson(annotations) };
  }

  /** AdaptModel's port: the latest version's regions, ids stable across versions (slide and region id). */
  async reviewedRegions(slideId: string, signal: AbortSignal): Promise<ReviewedRegion[]> {
    const [latest] = await this.parts.store.versions(slideId, signal);
    if (!latest) return [];
    const annotations = await this.parts.store.read(slideId, latest.version, signal);
    return (annotations?.regions ?? []).map((region) => ({
      id: `${slideId}#${region.id}`,
      slideId,
      outline: { exterior: region.outline, holes: [] },
      glomeruli: region.glomeruli.map(({ exterior, holes }) => ({ exterior, holes })),
    }));
  }
}
