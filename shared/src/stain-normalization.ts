/**
 * Per-slide stain normalisation (Reinhard et al. 2001, in CIE Lab): measure a slide's colour statistics once, on
 * its tissue, then map every tile so that those statistics become the model's training reference. Per slide, never
 * per tile: per-tile statistics differ from tile to tile and would make seams between them.
 */
import { GlomsegError } from './errors.js';
import { labToRgb, rgbToLab } from './colour-lab.js';
import type { ModelCard } from './model-card.js';
import type { RgbImage } from './slide-source.js';
import { tissueMask } from './tissue-mask.js';

export type Triple = [number, number, number];

/** Mean and standard deviation of L, a, b over the tissue pixels of an image. */
export interface LabStatistics {
  mean: Triple;
  std: Triple;
}

export interface SlideStainStatistics extends LabStatistics {
  /** Tissue pixels measured, and their share of the image. */
  tissuePixels: number;
  tissueFraction: number;
}

/** How a request asks for normalisation: the card's own choice, none, or a named method. */
export type StainNormalizationChoice = 'auto' | 'off' | StainMethodName;
export type StainMethodName = keyof typeof STAIN_METHODS;

/** What a tile's pixels go through before the model: from the slide's statistics to the card's reference. */
export interface StainMapping {
  method: StainMethodName;
  from: LabStatistics;
  to: LabStatistics;
}

/** A mapping made ready for many tiles of one slide; it may remember what it has computed. */
export type StainMapper = (image: RgbImage) => RgbImage;

interface StainMethod {
  describe: string;
  compile(mapping: StainMapping): StainMapper;
}

/** The methods a card or a request can name; a new one registers here and nowhere else. */
export const STAIN_METHODS = {
  reinhard: { describe: 'Reinhard: match the mean and spread of L, a and b over tissue', compile: reinhardMapper },
} satisfies Record<string, StainMethod>;

export const STAIN_CHOICES: readonly StainNormalizationChoice[] = ['auto', 'off', ...(Object.keys(STAIN_METHODS) as StainMethodName[])];

/** Fewer tissue pixels than this and the statistics say more about dust than about the stain. */
export const MIN_TISSUE_PIXELS = 500;

/** Statistics over the tissue of `image`, or undefined when it shows too little tissue to measure. */
export function measureStainStatistics(image: RgbImage): SlideStainStatistics | undefined {
  const { mask, fraction } = tissueMask(image);
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  let n = 0;
  const lab: Triple = [0, 0, 0];
  const d = image.data;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    rgbToLab(d[p * 3], d[p * 3 + 1], d[p * 3 + 2], lab);
    for (let c = 0; c < 3; c++) {
      sum[c] += lab[c];
      sumSq[c] += lab[c] * lab[c];
    }
    n++;
  }
  if (n < MIN_TISSUE_PIXELS) return undefined;
  const mean = sum.map((s) => s / n) as Triple;
  const std = sumSq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c] * mean[c]))) as Triple;
  return { mean, std, tissuePixels: n, tissueFraction: fraction };
}

/** Slots of a mapper's colour memo: a slide's tiles hold some tens of thousands of distinct colours each. */
const MEMO_SLOTS = 1 << 17;

/**
 * Each pixel's L, a, b shifted and scaled so that `from` becomes `to`; glass turns white again by clipping.
 * Tiles repeat their colours many times over, within a tile and across a slide's tiles, so the mapper converts a
 * colour once and remembers it in a direct-mapped memo (exact: a slot holds the colour it answers for), 1 MiB.
 */
export function reinhardMapper(mapping: StainMapping): StainMapper {
  const { from, to } = mapping;
  const gain = from.std.map((s, c) => (s > 1e-6 ? to.std[c] / s : 1));
  const memoKey = new Int32Array(MEMO_SLOTS).fill(-1);
  const memoValue = new Int32Array(MEMO_SLOTS);
  const lab: Triple = [0, 0, 0];
  const rgb: Triple = [0, 0, 0];
  return (image) => {
    const out = new Uint8Array(image.data.length);
    const d = image.data;
    for (let i = 0; i < d.length; i += 3) {
      const colour = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      const slot = Math.imul(colour, 0x9e3779b1) >>> 15;
      let mapped: number;
      if (memoKey[slot] === colour) {
        mapped = memoValue[slot];
      } else {
        rgbToLab(d[i], d[i + 1], d[i + 2], lab);
        labToRgb(
          (lab[0] - from.mean[0]) * gain[0] + to.mean[0],
          (lab[1] - from.mean[1]) * gain[1] + to.mean[1],
          (lab[2] - from.mean[2]) * gain[2] + to.mean[2],
          rgb,
        );
        mapped = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
        memoKey[slot] = colour;
        memoValue[slot] = mapped;
      }
      out[i] = mapped >>> 16;
      out[i + 1] = (mapped >>> 8) & 255;
      out[i + 2] = mapped & 255;
    }
    return { width: image.width, height: image.height, data: out };
  };
}

/** One image through Reinhard (a mapper made for it alone). */
export function applyReinhard(image: RgbImage, mapping: StainMapping): RgbImage {
  return reinhardMapper(mapping)(image);
}

export function compileStainMapping(mapping: StainMapping): StainMapper {
  return STAIN_METHODS[mapping.method].compile(mapping);
}

export function applyStainMapping(image: RgbImage, mapping: StainMapping | undefined): RgbImage {
  return mapping ? compileStainMapping(mapping)(image) : image;
}

/** Two mappings that map alike, as a string (a cache key for their mappers). */
export function stainMappingKey(mapping: StainMapping): string {
  return [mapping.method, ...mapping.from.mean, ...mapping.from.std, ...mapping.to.mean, ...mapping.to.std].join(',');
}

/**
 * The method a request ends up with: 'auto' takes the card's (the one its model was trained with), 'off' none,
 * a method name that one, against the card's reference statistics.
 */
export function resolveStainMethod(choice: StainNormalizationChoice | undefined, card: ModelCard): StainMethodName | undefined {
  const requested = choice ?? 'auto';
  if (requested === 'off') return undefined;
  const method = requested === 'auto' ? card.stain?.method : requested;
  if (method === undefined || method === 'off') return undefined;
  if (!(method in STAIN_METHODS)) {
    throw new GlomsegError('INVALID_ARGUMENT', `unknown stain normalisation '${method}': use one of ${STAIN_CHOICES.join(', ')}`);
  }
  if (!card.stain?.reference) {
    throw new GlomsegError('FAILED_PRECONDITION', `model '${card.id}' has no reference stain statistics in its card, so it cannot be normalised to them`);
  }
  return method as StainMethodName;
}
