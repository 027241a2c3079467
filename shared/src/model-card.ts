/** The model card: everything needed to run a segmentation model the same way it was trained. */
import { GlomsegError } from './errors.js';
import { CARD_SECTIONS, CardChecks, describe, isObject } from './model-card-checks.js';

export interface ModelCard {
  id: string;
  name: string;
  description: string;
  /** ONNX file name, relative to the card. */
  file: string;
  /** Optional variants of the same weights (e.g. fp16 for WebGPU), keyed by purpose. */
  variants?: Record<string, string>;
  /**
   * The PyTorch checkpoint of these weights (training/checkpoint.py), which AdaptModel fine-tunes: file relative to the
   * card, its sha256, and the network (a training/model.py ARCHITECTURES key). Absent: the model cannot be adapted.
   */
  checkpoint?: { file: string; sha256: string; arch: string };
  input: {
    name: string;
    layout: 'NCHW' | 'NHWC';
    channelOrder: 'RGB' | 'BGR';
    /** Pixel values are divided by `scale` (usually 255) before mean/std normalisation. */
    scale: number;
    mean: [number, number, number];
    std: [number, number, number];
  };
  output: {
    name: string;
    /** 'logits' needs a sigmoid; 'probability' is already in [0, 1]. */
    kind: 'logits' | 'probability';
    /** Channel of the glomerulus class (class 1). */
    channel: number;
  };
  /** The working scale: micrometres per pixel, and/or the pyramid downsample from level 0. */
  mpp?: number;
  downsample?: number;
  /** Output tile edge in model pixels. */
  tileSize: number;
  /** ScoreSlide's tile edge (model pixels, same margin): larger windows keep more of what the model computes. */
  scoreTileSize?: number;
  /** Context read on each side of a tile, in model pixels; only the centre is kept. */
  margin: number;
  /** Input sizes must be multiples of this (U-Net pooling depth). */
  sizeMultiple: number;
  threshold: number;
  /**
   * Polygons smaller than this many square pixels at the training data's level-0 resolution (mpp / downsample)
   * are dropped; a slide at another pixel size gets the same physical area (tile-grid `minAreaOnSlide`).
   */
  minArea?: number;
  /**
   * Touching glomeruli: a thresholded blob that holds two or more cores at or above this probability, each at least
   * `minArea`, is parted between them (shared/src/separate-touching.ts). Absent: blobs are kept whole.
   */
  seedThreshold?: number;
  /**
   * Whether a blob must reach `seedThreshold` somewhere to count as a glomerulus (hysteresis thresholding: pixels at
   * or above `threshold` are kept where they connect to a pixel at or above `seedThreshold`). Default false; needs
   * `seedThreshold`.
   */
  requireCore?: boolean;
  /**
   * Whether the image-based scale estimate (scale-estimate.ts) can be used with this model (default true). False for
   * a model trained with strong scale jitter: it finds glomerulus-like objects at several candidate scales, so the
   * estimate cannot tell them apart, and a slide without a pixel size is read at the training scale instead, with a
   * note to give it.
   */
  estimatesScale?: boolean;
  /**
   * Stain normalisation: the method the model was trained with ('off': none) and the reference statistics of its
   * training set (CIE Lab over tissue, shared/src/stain-normalization.ts), which a slide's own are mapped onto.
   */
  stain?: {
    method: 'off' | 'reinhard';
    reference?: { mean: [number, number, number]; std: [number, number, number] };
    /** How the reference was measured, for people. */
    measuredOn?: string;
  };
  /** The terms of the weights and this card: an SPDX licence id, and the copyright line it is granted under. */
  license?: { spdx: string; copyright: string };
  /**
   * The data the weights were trained, validated and chosen on: each set with where it came from and its terms, so a
   * user can tell what the model may be used for. `license` covers the set as published (annotations, the source's
   * repository); `imageTerms` the images' own terms where they differ.
   */
  trainingData?: TrainingDataSet[];
  provenance?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

export interface TrainingDataSet {
  name: string;
  /** Where it was obtained: repository or portal, and the folder. */
  source: string;
  /** SPDX licence id of the set as published. */
  license: string;
  imageTerms?: string;
  /** What it was used for: training, validation, checkpoint or threshold choice. */
  use: string;
}

/**
 * Checks that parsed JSON is a complete model card and returns it typed. Every problem is listed in one
 * INVALID_ARGUMENT error that names `source` (the card's file) and each bad field, so a person can fix the file.
 */
export function validateModelCard(json: unknown, source = 'model card'): ModelCard {
  if (!isObject(json)) {
    throw new GlomsegError('INVALID_ARGUMENT', `${source}: a model card must be a JSON object, got ${describe(json)}`);
  }
  const c = new CardChecks();
  for (const section of CARD_SECTIONS) section(json, c);
  if (c.problems.length > 0) {
    throw new GlomsegError('INVALID_ARGUMENT', `${source}: invalid model card: ${c.problems.join('; ')}`);
  }
  return json as unknown as ModelCard;
}
