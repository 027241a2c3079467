/** The model card: everything needed to run a segmentation model the same way it was trained. */
import { GlomsegError } from './errors.js';

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

type Json = Record<string, unknown>;

/** The field checks a card's sections use; each failed one adds a problem that names the field. */
class CardChecks {
  readonly problems: string[] = [];

  check(ok: boolean, field: string, expected: string, value: unknown): void {
    if (!ok) this.problems.push(`'${field}' must be ${expected} (got ${describe(value)})`);
  }

  text(obj: Json, key: string, field = key, optional = false): void {
    const value = obj[key];
    if (optional && value === undefined) return;
    this.check(typeof value === 'string' && value.trim() !== '', field, 'a non-empty string', value);
  }

  positive(obj: Json, key: string, field = key, optional = false): void {
    const value = obj[key];
    if (optional && value === undefined) return;
    this.check(isFiniteNumber(value) && value > 0, field, 'a positive number', value);
  }

  triple(obj: Json, key: string, field: string, strictlyPositive: boolean): void {
    const value = obj[key];
    const ok =
      Array.isArray(value) &&
      value.length === 3 &&
      value.every((v) => isFiniteNumber(v) && (!strictlyPositive || v > 0));
    this.check(ok, field, strictlyPositive ? 'an array of 3 positive numbers' : 'an array of 3 numbers', value);
  }

  oneOf(obj: Json, key: string, field: string, allowed: readonly string[]): void {
    const value = obj[key];
    this.check(
      typeof value === 'string' && allowed.includes(value),
      field,
      `one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
      value,
    );
  }
}

function checkFiles(json: Json, c: CardChecks): void {
  c.text(json, 'id');
  c.text(json, 'name');
  c.check(typeof json.description === 'string', 'description', 'a string', json.description);
  c.text(json, 'file');
  if (json.variants !== undefined) {
    const variants = json.variants;
    const ok = isObject(variants) && Object.values(variants).every((v) => typeof v === 'string' && v.trim() !== '');
    c.check(ok, 'variants', 'an object of file names, e.g. {"webgpu": "model.fp16.onnx"}', variants);
  }
  if (json.checkpoint !== undefined) {
    const ck = json.checkpoint;
    const ok =
      isObject(ck) &&
      [ck.file, ck.arch].every((v) => typeof v === 'string' && v.trim() !== '') &&
      typeof ck.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(ck.sha256);
    c.check(ok, 'checkpoint', '{"file", "sha256" (64 hex digits), "arch"}', ck);
  }
}

function checkTensors(json: Json, c: CardChecks): void {
  const input = json.input;
  if (isObject(input)) {
    c.text(input, 'name', 'input.name');
    c.oneOf(input, 'layout', 'input.layout', ['NCHW', 'NHWC']);
    c.oneOf(input, 'channelOrder', 'input.channelOrder', ['RGB', 'BGR']);
    c.positive(input, 'scale', 'input.scale');
    c.triple(input, 'mean', 'input.mean', false);
    c.triple(input, 'std', 'input.std', true);
  } else {
    c.check(false, 'input', 'an object', input);
  }
  const output = json.output;
  if (isObject(output)) {
    c.text(output, 'name', 'output.name');
    c.oneOf(output, 'kind', 'output.kind', ['logits', 'probability']);
    c.check(
      Number.isInteger(output.channel) && (output.channel as number) >= 0,
      'output.channel',
      'an integer >= 0',
      output.channel,
    );
  } else {
    c.check(false, 'output', 'an object', output);
  }
}

function checkGeometry(json: Json, c: CardChecks): void {
  c.positive(json, 'mpp', 'mpp', true);
  c.positive(json, 'downsample', 'downsample', true);
  // Whole numbers of model pixels, each at least `min`.
  const whole = (key: string, min: 0 | 1, optional = false) => {
    const v = json[key];
    if (optional && v === undefined) return;
    c.check(Number.isInteger(v) && (v as number) >= min, key, min ? 'a positive integer' : 'an integer >= 0', v);
  };
  whole('tileSize', 1);
  whole('scoreTileSize', 1, true);
  whole('margin', 0);
  whole('sizeMultiple', 1);
}

function checkPostprocessing(json: Json, c: CardChecks): void {
  c.check(
    isFiniteNumber(json.threshold) && json.threshold >= 0 && json.threshold <= 1,
    'threshold',
    'a number in [0, 1]',
    json.threshold,
  );
  if (json.minArea !== undefined) {
    c.check(isFiniteNumber(json.minArea) && json.minArea >= 0, 'minArea', 'a number >= 0', json.minArea);
  }
  if (json.seedThreshold !== undefined) {
    c.check(
      isFiniteNumber(json.seedThreshold) && json.seedThreshold > 0 && json.seedThreshold <= 1,
      'seedThreshold',
      'a number in (0, 1]',
      json.seedThreshold,
    );
  }
  if (json.requireCore !== undefined) {
    c.check(typeof json.requireCore === 'boolean', 'requireCore', 'true or false', json.requireCore);
    c.check(
      json.requireCore === false || json.seedThreshold !== undefined,
      'requireCore',
      'false without a seedThreshold',
      json.requireCore,
    );
  }
  if (json.estimatesScale !== undefined) {
    c.check(typeof json.estimatesScale === 'boolean', 'estimatesScale', 'true or false', json.estimatesScale);
  }
}

function checkStain(json: Json, c: CardChecks): void {
  if (json.stain === undefined) return;
  const stain = json.stain;
  if (!isObject(stain)) return c.check(false, 'stain', 'an object', stain);
  c.oneOf(stain, 'method', 'stain.method', ['off', 'reinhard']);
  if (stain.reference !== undefined || stain.method === 'reinhard') {
    if (isObject(stain.reference)) {
      c.triple(stain.reference, 'mean', 'stain.reference.mean', false);
      c.triple(stain.reference, 'std', 'stain.reference.std', true);
    } else {
      c.check(false, 'stain.reference', 'an object {mean: [L, a, b], std: [L, a, b]}', stain.reference);
    }
  }
}

function checkTerms(json: Json, c: CardChecks): void {
  if (json.license !== undefined) {
    if (isObject(json.license)) {
      c.text(json.license, 'spdx', 'license.spdx');
      c.text(json.license, 'copyright', 'license.copyright');
    } else {
      c.check(false, 'license', 'an object {spdx, copyright}', json.license);
    }
  }
  if (json.trainingData !== undefined) {
    if (Array.isArray(json.trainingData) && json.trainingData.length > 0) {
      json.trainingData.forEach((set: unknown, i) => {
        const field = `trainingData[${i}]`;
        if (!isObject(set)) return c.check(false, field, 'an object {name, source, license, use}', set);
        for (const key of ['name', 'source', 'license', 'use']) c.text(set, key, `${field}.${key}`);
        c.text(set, 'imageTerms', `${field}.imageTerms`, true);
      });
    } else {
      c.check(false, 'trainingData', 'a non-empty array of data sets {name, source, license, use}', json.trainingData);
    }
  }
  for (const key of ['provenance', 'metrics'] as const) {
    if (json[key] !== undefined) c.check(isObject(json[key]), key, 'an object', json[key]);
  }
}

/** The card's parts, checked in this order (the order the problems are listed in). */
const CARD_SECTIONS: readonly ((json: Json, c: CardChecks) => void)[] = [
  checkFiles,
  checkTensors,
  checkGeometry,
  checkPostprocessing,
  checkStain,
  checkTerms,
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
