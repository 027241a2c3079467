/**
 * In-memory stand-ins for the domain service's ports (slides, models, scoring): no ONNX, no files, no sockets, no
 * worker threads. The slide paints glomeruli as discs whose green channel carries the probability a model should
 * give there; the fake segmenter reads it back and traces it with the shared tracer. So its polygons come from the
 * pixels the service actually read: a wrong read window or margin would move them.
 */
import { cancelledError, GlomsegError } from '@glomseg/shared/errors.js';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import { validateModelCard, type ModelCard } from '@glomseg/shared/model-card.js';
import type {
  ProbabilityMap,
  Segmenter,
  TilePreprocess,
  TracedTile,
  TracedTileReturns,
  TraceOptions,
} from '@glomseg/shared/segmenter.js';
import { applyStainMapping } from '@glomseg/shared/stain-normalization.js';
import { tissueShare } from '@glomseg/shared/tissue-mask.js';
import type { RegionRequest, RgbImage, SlideMetadata, SlideSource } from '@glomseg/shared/slide-source.js';
import { traceTile } from '@glomseg/shared/trace-tile.js';
import type {
  ModelProvider,
  SlideProvider,
  TruthCheck,
  TruthScorer,
  TruthInput,
} from '@glomseg/shared/glomseg-service.js';
import type { SlideSummary } from '@glomseg/shared/glomseg-service.js';

type Rgb = [number, number, number];

/** A glomerulus to paint: centre and radius in level-0 pixels. */
export interface Disc {
  x: number;
  y: number;
  r: number;
}

/** Inside r / 2 a disc reads 0.9, out to r 0.6: a cut at 0.5 gives the whole disc, one at 0.75 its core. */
export const DISC_CORE = 0.9;
export const DISC_RIM = 0.6;

export function discProbability(discs: readonly Disc[], x: number, y: number): number {
  let p = 0;
  for (const d of discs) {
    const r = Math.hypot(x + 0.5 - d.x, y + 0.5 - d.y);
    if (r <= d.r / 2) p = Math.max(p, DISC_CORE);
    else if (r <= d.r) p = Math.max(p, DISC_RIM);
  }
  return p;
}

/** Pink tissue whose green channel falls with the probability (still tissue to the tissue rule at every value). */
export function tissueColour(probability: number): Rgb {
  return [200, Math.round(255 * (1 - probability)), 180];
}

export const GLASS: Rgb = [250, 250, 250];

/** What the fake model sees in a pixel: grey is glass (0), else the probability tissueColour painted. */
export function probabilityOfPixel(r: number, g: number, b: number): number {
  return r === g && g === b ? 0 : 1 - g / 255;
}

export interface PaintedSlideOptions {
  id?: string;
  width?: number;
  height?: number;
  discs?: readonly Disc[];
  /** The probability painted at a pixel, instead of `discs` (for patterns too large to list as discs). */
  probability?: (x: number, y: number) => number;
  /** Level-0 um/px the file records (default 0.5); undefined: none, as many plain images. */
  mpp?: number;
  /** Where the slide shows tissue (default everywhere); elsewhere bare glass. */
  tissue?: (x: number, y: number) => boolean;
}

/** A one-level slide at 0.5 um/px (so no scale estimate runs), painted pixel by pixel; it records its reads. */
export function paintedSlide(
  options: PaintedSlideOptions = {},
): SlideSource & { reads: RegionRequest[]; closed: boolean } {
  const { id = 'painted.tif', width = 512, height = 512, discs = [], tissue = () => true } = options;
  const mpp = 'mpp' in options ? options.mpp : 0.5;
  const probability = options.probability ?? ((x: number, y: number) => discProbability(discs, x, y));
  const metadata: SlideMetadata = {
    id,
    name: id,
    width,
    height,
    levels: [{ index: 0, width, height, downsample: 1, tileWidth: 256, tileHeight: 256, synthesized: false }],
    tileWidth: 256,
    tileHeight: 256,
    mppX: mpp,
    mppY: mpp,
    mppSource: mpp ? 'tiff-resolution' : '',
    format: 'tiff',
    compression: 'none',
    metadata: {},
    fileSize: width * height * 3,
    samplesPerPixel: 3,
  };
  const slide = {
    metadata,
    reads: [] as RegionRequest[],
    closed: false,
    async readRegion(region: RegionRequest, signal?: AbortSignal): Promise<RgbImage> {
      if (signal?.aborted) throw cancelledError(signal);
      slide.reads.push(region);
      const data = new Uint8Array(region.width * region.height * 3).fill(255);
      for (let row = 0; row < region.height; row++) {
        const y = region.y + row;
        for (let col = 0; col < region.width; col++) {
          const x = region.x + col;
          // Outside the slide reads white, as the contract says.
          if (x < 0 || y < 0 || x >= width || y >= height) continue;
          data.set(tissue(x, y) ? tissueColour(probability(x, y)) : GLASS, (row * region.width + col) * 3);
        }
      }
      return { width: region.width, height: region.height, data };
    },
    async close() {
      slide.closed = true;
    },
  };
  return slide;
}

/** A small valid model card working at level 0: 128-pixel tiles with a 16-pixel margin. */
export function fakeCard(overrides: Partial<ModelCard> = {}): ModelCard {
  return validateModelCard(
    {
      id: 'fake-unet',
      name: 'Fake U-Net',
      description: 'a test double',
      file: 'none.onnx',
      input: { name: 'input', layout: 'NCHW', channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1] },
      output: { name: 'output', kind: 'probability', channel: 0 },
      downsample: 1,
      tileSize: 128,
      margin: 16,
      sizeMultiple: 32,
      threshold: 0.5,
      minArea: 0,
      stain: { method: 'off' },
      ...overrides,
    },
    'fake card',
  );
}

/** One predictPolygons call, as the test sees it. */
export interface PredictCall {
  /** Level-0 top-left of the tile's kept centre (the tile's bounds), which names the tile. */
  origin: { x: number; y: number };
  image: { width: number; height: number };
  /** The RGB of the image's centre pixel, as the model got it (after any stain mapping). */
  centre: [number, number, number];
  signal?: AbortSignal;
  /** Whether the caller asked for the probabilities back. */
  wantsProbabilities: boolean;
  state: 'running' | 'done' | 'aborted' | 'failed';
  /** Lets a held call finish. */
  release(): void;
}

/**
 * A segmenter that reads probabilities off the painted pixels. While held, each call waits for its release (or its
 * signal); `started(n)` resolves once n calls have begun, so tests wait on events, never on time.
 */
export class FakeSegmenter implements Segmenter {
  readonly device = 'fake';
  readonly calls: PredictCall[] = [];
  /** Throws this for a call when it returns something (a chosen tile failing). */
  failWith?: (call: PredictCall) => unknown;
  /** Whether kept probabilities come back (the ONNX segmenter returns them; then a new threshold needs no model run). */
  returnsKept = true;
  disposed = false;
  private held = false;
  private readonly waiting: Array<{ count: number; resolve: (call: PredictCall) => void }> = [];

  constructor(readonly card: ModelCard = fakeCard()) {}

  hold(): void {
    this.held = true;
  }

  /** Releases every held call and stops holding new ones. */
  releaseAll(): void {
    this.held = false;
    for (const call of this.calls) call.release();
  }

  started(count: number): Promise<PredictCall> {
    if (this.calls.length >= count) return Promise.resolve(this.calls[count - 1]);
    return new Promise((resolve) => this.waiting.push({ count, resolve }));
  }

  origins(): string[] {
    return this.calls.map((c) => `${c.origin.x},${c.origin.y}`);
  }

  async predict(image: RgbImage, signal?: AbortSignal): Promise<ProbabilityMap> {
    if (signal?.aborted) throw cancelledError(signal);
    return probabilityMapOf(image);
  }

  async predictPolygons(
    input: RgbImage,
    trace: TraceOptions,
    signal?: AbortSignal,
    preprocess?: TilePreprocess,
    returns?: TracedTileReturns,
  ): Promise<TracedTile> {
    // As the ONNX segmenter does in its worker: the tile's stain mapping first, then the model.
    const image = applyStainMapping(input, preprocess?.stain);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const call: PredictCall = {
      origin: { x: trace.transform.originX, y: trace.transform.originY },
      image: { width: image.width, height: image.height },
      centre: centreOf(image),
      signal,
      wantsProbabilities: returns?.probabilities ?? true,
      state: 'running',
      release,
    };
    if (!this.held) release();
    this.calls.push(call);
    for (const w of this.waiting.filter((w) => w.count <= this.calls.length)) {
      this.waiting.splice(this.waiting.indexOf(w), 1);
      w.resolve(this.calls[w.count - 1]);
    }
    try {
      await untilReleasedOrAborted(gate, signal);
      const failure = this.failWith?.(call);
      if (failure !== undefined) {
        call.state = 'failed';
        throw failure;
      }
      const probabilities = probabilityMapOf(image);
      const polygons = traceTile(probabilities, trace);
      call.state = 'done';
      return {
        polygons,
        probabilities: this.returnsKept && call.wantsProbabilities ? probabilities : undefined,
        inferenceMs: 0,
        postprocessMs: 0,
        tissueFraction: tissueShare(input.data),
      };
    } catch (error) {
      if (call.state === 'running') call.state = 'aborted';
      throw error;
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

function centreOf(image: RgbImage): [number, number, number] {
  const p = (Math.floor(image.height / 2) * image.width + Math.floor(image.width / 2)) * 3;
  return [image.data[p], image.data[p + 1], image.data[p + 2]];
}

function probabilityMapOf(image: RgbImage): ProbabilityMap {
  const data = new Float32Array(image.width * image.height);
  for (let p = 0; p < data.length; p++)
    data[p] = probabilityOfPixel(image.data[p * 3], image.data[p * 3 + 1], image.data[p * 3 + 2]);
  return { width: image.width, height: image.height, data };
}

function untilReleasedOrAborted(gate: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return gate;
  if (signal.aborted) return Promise.reject(cancelledError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelledError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    gate.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** Slides by id, refusing an unknown one as the slide catalog does. */
export class FakeSlides implements SlideProvider {
  readonly opened: string[] = [];
  private readonly byId: Map<string, SlideSource>;

  constructor(slides: SlideSource[]) {
    this.byId = new Map(slides.map((s) => [s.metadata.id, s]));
  }

  async list(): Promise<SlideSummary[]> {
    return [...this.byId.values()].map((s) => ({
      id: s.metadata.id,
      name: s.metadata.name,
      fileSize: s.metadata.fileSize,
    }));
  }

  async open(slideId: string, signal?: AbortSignal): Promise<SlideSource> {
    if (signal?.aborted) throw cancelledError(signal);
    const slide = this.byId.get(slideId);
    // The slide catalog's own wording (server/src/slides/slide-catalog.ts).
    if (!slide) throw new GlomsegError('NOT_FOUND', `no slide '${slideId}' in the configured slide folders`);
    this.opened.push(slideId);
    return slide;
  }
}

/** Models by card id, each with its fake segmenter; an unknown id is refused as the model registry does. */
export class FakeModels implements ModelProvider {
  private readonly byId: Map<string, FakeSegmenter>;

  constructor(segmenters: FakeSegmenter[]) {
    this.byId = new Map(segmenters.map((s) => [s.card.id, s]));
  }

  list(): ModelCard[] {
    return [...this.byId.values()].map((s) => s.card);
  }

  get(modelId: string): ModelCard {
    return this.segmenterOf(modelId).card;
  }

  defaultModel(): ModelCard {
    return this.list()[0];
  }

  async segmenter(modelId: string): Promise<Segmenter> {
    return this.segmenterOf(modelId);
  }

  deviceOf(): string {
    return 'fake';
  }

  private segmenterOf(modelId: string): FakeSegmenter {
    const segmenter = this.byId.get(modelId);
    // The model registry's own wording (server/src/inference/model-registry.ts).
    if (!segmenter)
      throw new GlomsegError('NOT_FOUND', `no model '${modelId}'; available: ${[...this.byId.keys()].join(', ')}`);
    return segmenter;
  }
}

/** Ground truth "scored" with fixed metrics; it records what it was given and when. */
export class FakeScorer implements TruthScorer {
  readonly checks: TruthInput[] = [];
  readonly diceCalls: Array<{ predicted: Polygon[]; region: Rect; tile: { tileWidth: number; tileHeight: number } }> =
    [];
  /** Refuses the annotations when set (as the scoring pool does for bad ground truth). */
  checkFailure?: GlomsegError;

  constructor(readonly metrics: DiceMetrics = fakeMetrics()) {}

  async checkAnnotations(truth: TruthInput): Promise<TruthCheck> {
    this.checks.push(truth);
    if (this.checkFailure) throw this.checkFailure;
    return { polygons: 1, vertices: 4, warnings: [] };
  }

  async scoreDice(
    _truth: TruthInput,
    predicted: Polygon[],
    region: Rect,
    tile: { tileWidth: number; tileHeight: number },
  ): Promise<DiceMetrics> {
    this.diceCalls.push({ predicted, region, tile });
    return this.metrics;
  }
}

export function fakeMetrics(): DiceMetrics {
  return {
    globalDice: 0.75,
    meanTileDice: 0.5,
    diceTileWidth: 1600,
    diceTileHeight: 1200,
    diceTiles: 1,
    predictedArea: 100,
    truthArea: 100,
    intersectionArea: 75,
    precision: 1,
    recall: 1,
    f1: 1,
    truePositives: 1,
    falsePositives: 0,
    falseNegatives: 0,
    truthCount: 1,
  };
}
