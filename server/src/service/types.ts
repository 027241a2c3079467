/** Domain types of the glomseg service. No gRPC here: handlers translate proto <-> these. */
import type { GlomerulusPolygon, Rect } from '@glomseg/shared/geometry.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import type { TileAddress, TileGrid } from '@glomseg/shared/tile-grid.js';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { SlideStainStatistics, StainNormalizationChoice } from '@glomseg/shared/stain-normalization.js';

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
}

export interface Timings {
  readMs: number;
  inferenceMs: number;
  postprocessMs: number;
  queueMs: number;
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
  threshold?: number;
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
}

export type AnnotationFormat = 'auto' | 'geojson' | 'labelme' | 'rle-csv';

export interface ScoreSlideParams extends TileReadingParams {
  slideId: string;
  modelId?: string;
  region?: Rect;
  annotations?: { content: string; format: AnnotationFormat; name?: string };
  mppOverride?: number;
  threshold?: number;
  diceTileWidth?: number;
  diceTileHeight?: number;
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
}

export type ScoreEvent = { kind: 'progress'; progress: ScoreProgress } | { kind: 'result'; result: ScoreResult };

export interface ViewerTile {
  contentType: 'image/jpeg' | 'image/png';
  data: Uint8Array;
  /** True when these are the stored bytes of the file's own tile. */
  passthrough: boolean;
}

/** What the protocol layers (gRPC, gRPC-Web, CLI in-process) call. */
export interface GlomsegService {
  listSlides(signal?: AbortSignal): Promise<SlideSummary[]>;
  getSlideInfo(slideId: string, signal?: AbortSignal): Promise<SlideInfo>;
  listModels(options: { slideId?: string; mppOverride?: number }, signal?: AbortSignal): Promise<ModelSummary[]>;
  streamTiles(params: StreamTilesParams, signal: AbortSignal): AsyncIterable<TileOutcome>;
  scoreSlide(params: ScoreSlideParams, signal: AbortSignal): AsyncIterable<ScoreEvent>;
  /**
   * One tile of the slide image for a viewer: the level's native tile grid when the level is tiled
   * (so stored JPEG tiles pass through untouched), else a 512 x 512 grid. Encoded as JPEG.
   */
  readViewerTile(slideId: string, level: number, col: number, row: number, signal?: AbortSignal): Promise<ViewerTile>;
  /** Counters for monitoring and tests (streams cancelled, tiles dropped, cache size). */
  stats?(): object;
  close(): Promise<void>;
}
