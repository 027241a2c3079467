/**
 * The glomseg service's contract: the domain types it takes and yields, the interface the protocol layer
 * (api/src/server/service-impl.ts) calls, and the ports the service itself depends on. No wire types here.
 */
import type { AnnotationBudget } from './annotation-budget.js';
import type { GlomerulusPolygon, Polygon, Rect } from './geometry.js';
import type { ModelCard } from './model-card.js';
import type { Segmenter } from './segmenter.js';
import type { SlideMetadata, SlideSource } from './slide-source.js';
import type { TileAddress, TileGrid } from './tile-grid.js';
import type { DiceMetrics } from './dice.js';
import type { SlideStainStatistics, StainNormalizationChoice } from './stain-normalization.js';
import type { AnnotationFormat } from './annotation-formats/index.js';
import type { AnnotationService } from './reviewed-annotations.js';
import type { ModelAdaptationService } from './adaptation.js';

/** A slide as GetSlideInfo describes it: the file's metadata and what its survey measured. */
export interface SlideInfo extends SlideMetadata {
  stain: { statistics?: SlideStainStatistics; level: number; tissueMapped: boolean; unmeasuredBecause?: string };
}

export interface SlideSummary {
  id: string;
  name: string;
  fileSize: number;
}

export interface ModelSummary {
  card: ModelCard;
  device: string;
  grid?: TileGrid;
  /** The model calls get when they name none. */
  isDefault?: boolean;
}

export interface Timings {
  readMs: number;
  inferenceMs: number;
  postprocessMs: number;
  queueMs: number;
}

declare const checkedRequest: unique symbol;

/**
 * Parameters the API's one validator (api/src/server/request-checks.ts) has checked: every field that is set lies within
 * its documented bound (README, "Production serving"). The service trusts them and checks no field again; what
 * depends on the slide (tiles, region, Dice grid) is judged against it in server/src/validation/.
 */
export type Checked<T> = T & { readonly [checkedRequest]: true };

/** GetSlideInfo's parameters. */
export interface SlideRequest {
  slideId: string;
}

/** ListModels' parameters: with a slide, each model's grid on it. */
export interface ListModelsParams {
  slideId?: string;
  mppOverride?: number;
}

/** One viewer tile of the slide image (GET /api/slides/{id}/tiles/{level}/{col}/{row}). */
export interface ViewerTileParams {
  slideId: string;
  level: number;
  col: number;
  row: number;
}

/** How tiles are read and which are inferred: shared by StreamTiles and ScoreSlide. */
export interface TileReadingParams {
  /** 'auto' (default): the model card's method; 'off'; or a method by name. */
  stainNormalization?: StainNormalizationChoice;
  /** Infer tiles of bare glass too (default: skipped, reported as such). */
  includeBackground?: boolean;
}

export interface StreamTilesParams extends TileReadingParams {
  slideId: string;
  modelId?: string;
  tiles: TileAddress[];
  mppOverride?: number;
  /** Unset: the model card's. */
  threshold?: number;
  /** Also send each inferred tile's probabilities (TileOutcome.probabilityPng), for a heatmap. */
  includeProbabilities?: boolean;
}

export interface TileOutcome {
  tile: TileAddress;
  bounds: Rect;
  polygons: GlomerulusPolygon[];
  cached: boolean;
  /** The slide shows no tissue here: not inferred, no polygons. */
  skipped: boolean;
  timings: Timings;
  requestIndex: number;
  grid: TileGrid;
  /** Share of the tile that is stained tissue. */
  tissueFraction?: number;
  /** Tissue in `bounds` on the slide's tissue map (tissueAreaIn), level-0 square pixels; unset without a map. */
  tissueArea?: number;
  /**
   * Asked for (includeProbabilities) and inferred: the tile's probabilities over `bounds` as an 8-bit greyscale PNG,
   * grey = round(255 x p) (probability-raster.ts), its first pixel at the top-left corner of `bounds`.
   */
  probabilityPng?: Uint8Array;
}

/** Named by the annotation format registry (annotation-formats/), once. */
export type { AnnotationFormat };

export interface ScoreSlideParams extends TileReadingParams {
  slideId: string;
  modelId?: string;
  region?: Rect;
  /** Ground truth; `classes`: the shapes to count as glomeruli (unset or empty: the glomerulus names, ground-truth.ts). */
  annotations?: { content: string; format: AnnotationFormat; name?: string; classes?: string[] };
  mppOverride?: number;
  /** Unset: the model card's. */
  threshold?: number;
  diceTileWidth?: number;
  diceTileHeight?: number;
  /** Score on the viewer's tile grid, so the figures equal its live Dice exactly (default: the larger windows). */
  viewerGrid?: boolean;
}

export interface ScoreProgress {
  tilesDone: number;
  tilesTotal: number;
  /** Of those done, the tiles of bare glass that were not inferred. */
  tilesSkipped: number;
  elapsedMs: number;
  etaMs: number;
}

export interface ScoreResult {
  slideId: string;
  modelId: string;
  region: Rect;
  polygons: GlomerulusPolygon[];
  metrics?: DiceMetrics;
  grid: TileGrid;
  elapsedMs: number;
  totalTimings: Timings;
  /** Tissue in `region` on the slide's tissue map, level-0 square pixels (what counts per mm² of tissue are over). */
  tissueArea?: number;
  /** What scoring left out of, or repaired in, the ground truth, in words for the user. */
  warnings: string[];
}

export type ScoreEvent = { kind: 'progress'; progress: ScoreProgress } | { kind: 'result'; result: ScoreResult };

export interface ViewerTile {
  contentType: 'image/jpeg' | 'image/png';
  data: Uint8Array;
  /** True when these are the stored bytes of the file's own tile. */
  passthrough: boolean;
}

/** What the protocol layers (gRPC, gRPC-Web, the viewer's HTTP tiles) call, with checked parameters. */
export interface GlomsegService {
  listSlides(signal?: AbortSignal): Promise<SlideSummary[]>;
  getSlideInfo(params: Checked<SlideRequest>, signal?: AbortSignal): Promise<SlideInfo>;
  listModels(params: Checked<ListModelsParams>, signal?: AbortSignal): Promise<ModelSummary[]>;
  streamTiles(params: Checked<StreamTilesParams>, signal: AbortSignal): AsyncIterable<TileOutcome>;
  scoreSlide(params: Checked<ScoreSlideParams>, signal: AbortSignal): AsyncIterable<ScoreEvent>;
  /**
   * One tile of the slide image for a viewer: the level's native tile grid when the level is tiled
   * (so stored JPEG tiles pass through untouched), else a 512 x 512 grid. Encoded as JPEG.
   */
  readViewerTile(params: Checked<ViewerTileParams>, signal?: AbortSignal): Promise<ViewerTile>;
  /** The annotation store's use case; unset on a server that keeps no annotations (FAILED_PRECONDITION). */
  readonly annotations?: AnnotationService;
  /** AdaptModel and SetDefaultModel; unset on a server that cannot adapt (FAILED_PRECONDITION). */
  readonly adaptation?: ModelAdaptationService;
  /** Counters for monitoring and tests (streams cancelled, tiles dropped, cache size). */
  stats?(): object;
  close(): Promise<void>;
}

// ---- The ports the service depends on (implemented at the edges: files and URLs, ONNX, worker threads) ----

/** Ground truth as the scorer receives it. */
export interface TruthInput {
  content: string;
  format: AnnotationFormat;
  name?: string;
  /** Slide size in level-0 pixels (RLE masks, shapes off the slide). */
  width: number;
  height: number;
  /** Classes of shapes to count; unset or empty: the glomerulus names. */
  classes?: string[];
  budget: AnnotationBudget;
}

/** What scoring will take of a ground truth (checked before any inference). */
export interface TruthCheck {
  polygons: number;
  vertices: number;
  warnings: string[];
}

/** Where slides come from (the slide catalog at the edge). */
export interface SlideProvider {
  list(signal?: AbortSignal): Promise<SlideSummary[]>;
  open(slideId: string, signal?: AbortSignal): Promise<SlideSource>;
}

/** Where models come from (the model registry and its ONNX sessions at the edge). */
export interface ModelProvider {
  list(): ModelCard[];
  get(modelId: string): ModelCard;
  defaultModel(): ModelCard;
  segmenter(modelId: string, signal?: AbortSignal): Promise<Segmenter>;
  /** The execution provider a model runs on, or the one it will run on. */
  deviceOf(modelId: string): string;
}

/** Ground truth, checked and scored off the serving thread (the scoring worker pool at the edge). */
export interface TruthScorer {
  checkAnnotations(truth: TruthInput, signal: AbortSignal): Promise<TruthCheck>;
  scoreDice(
    truth: TruthInput,
    predicted: Polygon[],
    region: Rect,
    tile: { tileWidth: number; tileHeight: number },
    signal: AbortSignal,
  ): Promise<DiceMetrics>;
}
