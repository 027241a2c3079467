/** The contract for running a segmentation model on one RGB tile. Implementations (ONNX Runtime) sit at the edge. */
import type { ModelCard } from './model-card.js';
import type { RgbImage } from './slide-source.js';
import type { GlomerulusPolygon } from './geometry.js';
import type { StainMapping } from './stain-normalization.js';

/** Where the map sits on the slide: level0 = origin + mapPixel * scale. */
export interface MapTransform {
  originX: number;
  originY: number;
  scale: number;
}

export interface TraceOptions {
  /** The kept centre inside the map. */
  keepX: number;
  keepY: number;
  keepWidth: number;
  keepHeight: number;
  threshold: number;
  /** Where the kept centre sits on the slide. */
  transform: MapTransform;
  /** Level-0 square pixels below which a component is dropped. */
  minArea: number;
  /**
   * Touching glomeruli are parted between their cores at or above this probability, each core at least `minArea`
   * (the card's `seedThreshold`; absent or not above `threshold`: no parting).
   */
  seedThreshold?: number;
  /** Drop blobs that never reach `seedThreshold` (the card's `requireCore`; needs a seed threshold above `threshold`). */
  requireCore?: boolean;
}

/** How a tile's probabilities are cut into glomeruli: everything in TraceOptions but where the tile is. */
export type TileCut = Pick<TraceOptions, 'threshold' | 'minArea' | 'seedThreshold' | 'requireCore'>;

/** What a tile's pixels go through before the model, where the model runs (off the caller's thread). */
export interface TilePreprocess {
  /** Colour mapping from the slide's stain statistics to the model's reference. */
  stain?: StainMapping;
}

/**
 * Per-pixel probability of the glomerulus class, row-major: values in [0, 1], or with `logits` the model's logits
 * whose sigmoids they are (a tile that is only cut into polygons; map-values.ts reads either).
 */
export interface ProbabilityMap {
  width: number;
  height: number;
  data: Float32Array;
  logits?: boolean;
}

export interface TracedTile {
  polygons: GlomerulusPolygon[];
  /**
   * The whole tile's probabilities, context margin included, when the implementation returns them: what re-cutting
   * at another threshold needs (traceTile with the same keep rectangle).
   */
  probabilities?: ProbabilityMap;
  /** session.run time, and thresholding + tracing time, in milliseconds. */
  inferenceMs: number;
  postprocessMs: number;
  /** Share of the image (as read, before any stain mapping) that is stained tissue: measured where the model runs. */
  tissueFraction: number;
}

/** What comes back from `predictPolygons` besides the polygons. */
export interface TracedTileReturns {
  /**
   * The whole window's probabilities (default true). A caller that will not keep them says so: they are the largest
   * part of each answer, and a whole-slide pass that drops them still made the serving thread collect them.
   */
  probabilities?: boolean;
}

export interface Segmenter {
  readonly card: ModelCard;
  /** Execution provider in use: 'cpu', 'webgpu' or 'cuda'. */
  readonly device: string;
  /** Runs the model on an RGB image (a tile with its context margin); returns a map of the same size. */
  predict(image: RgbImage, signal?: AbortSignal, preprocess?: TilePreprocess): Promise<ProbabilityMap>;
  /** Predicts and traces the kept centre into polygons where the model runs, off the caller's thread. */
  predictPolygons(
    image: RgbImage,
    trace: TraceOptions,
    signal?: AbortSignal,
    preprocess?: TilePreprocess,
    returns?: TracedTileReturns,
  ): Promise<TracedTile>;
  dispose(): Promise<void>;
}
