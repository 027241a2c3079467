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

/**
 * A mapping made ready for many tiles of one slide, one colour at a time: 0xRRGGBB in, the mapped 0xRRGGBB out. A
 * colour, not an image, so that the model-input conversion maps, normalises and pads a tile in one pass over it
 * (preprocess.ts `tileModelInput`). It may remember what it has computed.
 */
export type ColourMap = (colour: number) => number;

interface StainMethod {
  describe: string;
  compile(mapping: StainMapping): ColourMap;
}

/** The methods a card or a request can name; a new one registers here and nowhere else. */
export const STAIN_METHODS = {
  reinhard: { describe: 'Reinhard: match the mean and spread of L, a and b over tissue', compile: reinhardMapper },
} satisfies Record<string, StainMethod>;

export const STAIN_CHOICES: readonly StainNormalizationChoice[] = [
  'auto',
  'off',
  ...(Object.keys(STAIN_METHODS) as StainMethodName[]),
];

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

/** Slots of a colour map's memo: a slide's tiles hold some tens of thousands of distinct colours each. */
const MEMO_SLOT_BITS = 18;

/**
 * Each colour's L, a, b shifted and scaled so that `from` becomes `to`; glass turns white again by clipping.
 * Tiles repeat their colours many times over, within a tile and across a slide's tiles, so the map converts a
 * colour once and remembers it in a direct-mapped memo, exact, one 32-bit word a slot (1 MiB): the 24-bit colour is
 * mixed by a bijection, whose low bits pick the slot and whose top 6 bits, kept beside the mapped colour, say which
 * colour the slot holds. (Key and value in two words, the memo before, held half as many colours in the same
 * memory and was about 20 % slower a tile; a two-way memo cost more per look-up than it saved.)
 */
export function reinhardMapper(mapping: StainMapping): ColourMap {
  const { from, to } = mapping;
  const gain = from.std.map((s, c) => (s > 1e-6 ? to.std[c] / s : 1));
  const memo = new Int32Array(1 << MEMO_SLOT_BITS);
  const slotMask = (1 << MEMO_SLOT_BITS) - 1;
  const lab: Triple = [0, 0, 0];
  const rgb: Triple = [0, 0, 0];
  return (colour) => {
    // Each step maps 24-bit numbers one to one (a shift-xor, a product with an odd number modulo 2^24).
    let mixed = colour ^ (colour >>> 12);
    mixed = Math.imul(mixed, 0x9e3779) & 0xffffff;
    mixed ^= mixed >>> 12;
    const slot = mixed & slotMask;
    // The tag with a top bit set, so that an empty slot (0) never matches.
    const tag = (mixed >>> MEMO_SLOT_BITS) | 0x80;
    const entry = memo[slot];
    if (entry >>> 24 === tag) return entry & 0xffffff;
    rgbToLab(colour >>> 16, (colour >>> 8) & 255, colour & 255, lab);
    labToRgb(
      (lab[0] - from.mean[0]) * gain[0] + to.mean[0],
      (lab[1] - from.mean[1]) * gain[1] + to.mean[1],
      (lab[2] - from.mean[2]) * gain[2] + to.mean[2],
      rgb,
    );
    const mapped = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
    memo[slot] = (tag << 24) | mapped;
    return mapped;
  };
}

/** Every pixel of an image through a colour map, as a new image. */
export function applyColourMap(image: RgbImage, map: ColourMap): RgbImage {
  const d = image.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i += 3) {
    const mapped = map((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    out[i] = mapped >>> 16;
    out[i + 1] = (mapped >>> 8) & 255;
    out[i + 2] = mapped & 255;
  }
  return { width: image.width, height: image.height, data: out };
}

/** One image through Reinhard (a map made for it alone). */
export function applyReinhard(image: RgbImage, mapping: StainMapping): RgbImage {
  return applyColourMap(image, reinhardMapper(mapping));
}

export function compileStainMapping(mapping: StainMapping): ColourMap {
  return STAIN_METHODS[mapping.method].compile(mapping);
}

export function applyStainMapping(image: RgbImage, mapping: StainMapping | undefined): RgbImage {
  return mapping ? applyColourMap(image, compileStainMapping(mapping)) : image;
}

/** Two mappings that map alike, as a string (a cache key for their mappers). */
export function stainMappingKey(mapping: StainMapping): string {
  return [mapping.method, ...mapping.from.mean, ...mapping.from.std, ...mapping.to.mean, ...mapping.to.std].join(',');
}

/**
 * The method a request ends up with: 'auto' takes the card's (the one its model was trained with), 'off' none,
 * a method name that one, against the card's reference statistics.
 */
export function resolveStainMethod(
  choice: StainNormalizationChoice | undefined,
  card: ModelCard,
): StainMethodName | undefined {
  const requested = choice ?? 'auto';
  if (requested === 'off') return undefined;
  const method = requested === 'auto' ? card.stain?.method : requested;
  if (method === undefined || method === 'off') return undefined;
  if (!(method in STAIN_METHODS)) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `unknown stain normalisation '${method}': use one of ${STAIN_CHOICES.join(', ')}`,
    );
  }
  if (!card.stain?.reference) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `model '${card.id}' has no reference stain statistics in its card, so it cannot be normalised to them`,
    );
  }
  return method as StainMethodName;
}
