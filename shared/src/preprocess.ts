/**
 * Model input and output plumbing, shared by the server (onnxruntime-node) and the browser (onnxruntime-web):
 * RGB bytes -> normalised tensor data in the card's layout, model output -> probability map, crop to the kept centre.
 */
import type { ModelCard } from './model-card.js';
import type { ProbabilityMap } from './segmenter.js';
import type { RgbImage } from './slide-source.js';
import { GlomsegError } from './errors.js';
import type { ColourMap } from './stain-normalization.js';
import { isTissue } from './tissue-mask.js';

/**
 * Tensor data for a batch of one, shape [1, 3, H, W] (NCHW) or [1, H, W, 3] (NHWC). Each value is
 * `(v / scale - mean[c]) / std[c]`, where c counts channels in the card's channel order (mean and std are
 * listed in that order too).
 */
export function toModelInput(image: RgbImage, card: ModelCard): Float32Array {
  return convertPixels(image, card, image.width, image.height).values;
}

/** One tile as the model takes it, and what the pass over its pixels saw. */
export interface TileModelInput {
  /** Tensor data as `toModelInput` makes it, of the padded size. */
  values: Float32Array;
  /** The tile padded right and bottom to the card's size multiple. */
  width: number;
  height: number;
  /** Share of the tile's pixels (as read, before any colour map) that are tissue. */
  tissueFraction: number;
}

/**
 * A tile to tensor data in one pass over its pixels: each colour through the slide's colour map (stain
 * normalisation) when there is one, normalised as `toModelInput` does, padded right and bottom with white to the
 * size multiple a U-Net needs (white: what a slide shows outside itself, left unmapped), and its tissue counted.
 * One pass, because each of these on its own reads the whole tile again, and tiles are many.
 */
export function tileModelInput(image: RgbImage, card: ModelCard, mapColour?: ColourMap): TileModelInput {
  const multiple = Math.max(1, card.sizeMultiple);
  const width = Math.ceil(image.width / multiple) * multiple;
  const height = Math.ceil(image.height / multiple) * multiple;
  const { values, tissuePixels } = convertPixels(image, card, width, height, mapColour);
  const pixels = image.width * image.height;
  return { values, width, height, tissueFraction: pixels > 0 ? tissuePixels / pixels : 0 };
}

function convertPixels(
  image: RgbImage,
  card: ModelCard,
  width: number,
  height: number,
  mapColour?: ColourMap,
): { values: Float32Array; tissuePixels: number } {
  const { width: w, height: h, data } = image;
  if (data.length !== w * h * 3) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `RGB image of ${w} x ${h} holds ${data.length} bytes, expected ${w * h * 3}`,
    );
  }
  const { layout, channelOrder, scale, mean, std } = card.input;
  if (!(scale > 0) || std.some((s) => s === 0 || !Number.isFinite(s))) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `model ${card.id} has an unusable input normalisation (scale ${scale}, std ${std.join(', ')})`,
    );
  }
  // The model channel each source byte (R, G, B) feeds, and a table from byte to normalised value per source byte.
  const channelOf = channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const [tableR, tableG, tableB] = channelOf.map((c) => {
    const multiply = 1 / (scale * std[c]);
    const add = -mean[c] / std[c];
    return Float32Array.from({ length: 256 }, (_, v) => v * multiply + add);
  });
  const padded = width * height;
  const planar = layout === 'NCHW';
  const pixelStep = planar ? 1 : 3;
  const [offR, offG, offB] = channelOf.map((c) => (planar ? c * padded : c));
  // A new array per tile. Reusing one saved about 0.3 ms a tile, but fewer allocations also mean fewer collections
  // of memory V8 does not count (ORT's outputs), and a probe's peak RSS did not come out lower; not adopted.
  const out = new Float32Array(padded * 3);
  let tissuePixels = 0;
  const tables: ChannelTables = { tableR, tableG, tableB, offR, offG, offB };
  for (let y = 0; y < h; y++) {
    const from = y * w * 3;
    const to = y * width * pixelStep;
    tissuePixels += mapColour
      ? convertMappedRow(data, from, w, out, to, pixelStep, tables, mapColour)
      : convertRow(data, from, w, out, to, pixelStep, tables);
  }
  if (width !== w || height !== h) {
    for (let y = 0; y < height; y++) {
      for (let x = y < h ? w : 0; x < width; x++) {
        const o = (y * width + x) * pixelStep;
        out[o + offR] = tableR[255];
        out[o + offG] = tableG[255];
        out[o + offB] = tableB[255];
      }
    }
  }
  return { values: out, tissuePixels };
}

interface ChannelTables {
  tableR: Float32Array;
  tableG: Float32Array;
  tableB: Float32Array;
  offR: number;
  offG: number;
  offB: number;
}

// The per-pixel loop, in a function of its own, twice: once without a colour map and once with one, so that
// neither tests for the map per pixel (one loop for both cost about 0.3 ms more per 384^2 tile).

/** One row of `count` pixels from `data[i]` to `out[o]`; returns how many were tissue. */
function convertRow(
  data: Uint8Array,
  i: number,
  count: number,
  out: Float32Array,
  o: number,
  step: number,
  t: ChannelTables,
): number {
  const { tableR, tableG, tableB, offR, offG, offB } = t;
  let tissue = 0;
  for (const end = i + count * 3; i < end; i += 3, o += step) {
    const r = data[i];
    const g = data[i + 1];
    const b = data[i + 2];
    if (isTissue(r, g, b)) tissue++;
    out[o + offR] = tableR[r];
    out[o + offG] = tableG[g];
    out[o + offB] = tableB[b];
  }
  return tissue;
}

/** As convertRow, each colour through `mapColour` (the tissue counted as read). */
function convertMappedRow(
  data: Uint8Array,
  i: number,
  count: number,
  out: Float32Array,
  o: number,
  step: number,
  t: ChannelTables,
  mapColour: ColourMap,
): number {
  const { tableR, tableG, tableB, offR, offG, offB } = t;
  let tissue = 0;
  for (const end = i + count * 3; i < end; i += 3, o += step) {
    const r = data[i];
    const g = data[i + 1];
    const b = data[i + 2];
    if (isTissue(r, g, b)) tissue++;
    const mapped = mapColour((r << 16) | (g << 8) | b);
    out[o + offR] = tableR[mapped >>> 16];
    out[o + offG] = tableG[(mapped >>> 8) & 255];
    out[o + offB] = tableB[mapped & 255];
  }
  return tissue;
}

// e^-z without Math.exp, which was the slowest step of a tile after the model (about 2 ms for 384^2 logits):
// e^-z = 2^-(k/64) * e^-r with k whole and |r| <= ln2/128, where five terms of e^-r's series are exact to double
// precision, and 2^-(k/64) comes from two tables.
const EXP_STEPS = 64;
const STEPS_PER_UNIT = EXP_STEPS * Math.LOG2E;
// ln2 / 64 in two parts (Cody and Waite), the first short enough that k times it is exact in a double.
const UNITS_PER_STEP_HIGH = Math.round((Math.LN2 / EXP_STEPS) * 2 ** 32) / 2 ** 32;
const UNITS_PER_STEP_LOW = Math.LN2 / EXP_STEPS - UNITS_PER_STEP_HIGH;
const STEP_POW2 = Float64Array.from({ length: EXP_STEPS }, (_, j) => 2 ** (-j / EXP_STEPS));
/** e^-z is below the smallest normal double past this; returned as 0. */
const EXP_NEGLIGIBLE_FROM = 700;
const WHOLE_POW2 = Float64Array.from({ length: Math.ceil(EXP_NEGLIGIBLE_FROM * Math.LOG2E + 2) }, (_, i) => 2 ** -i);

/** e^-z for z >= 0. */
function expNegative(z: number): number {
  if (!(z < EXP_NEGLIGIBLE_FROM)) return z >= EXP_NEGLIGIBLE_FROM ? 0 : Number.NaN;
  // Rounds to the nearest step (z >= 0 and small enough for 32 bits); Math.round cost as much as Math.exp.
  const k = (z * STEPS_PER_UNIT + 0.5) | 0;
  const r = z - k * UNITS_PER_STEP_HIGH - k * UNITS_PER_STEP_LOW;
  const series = 1 - r * (1 - r * (1 / 2 - r * (1 / 6 - r * (1 / 24 - r * (1 / 120)))));
  return WHOLE_POW2[k >> 6] * STEP_POW2[k & (EXP_STEPS - 1)] * series;
}

/** Numerically stable logistic function. */
export function sigmoid(x: number): number {
  const e = expNegative(Math.abs(x));
  const s = 1 / (1 + e);
  return x >= 0 ? s : e * s;
}

/** Applies the sigmoid to every value, in place; returns the same array. */
export function applySigmoid(values: Float32Array): Float32Array {
  for (let k = 0; k < values.length; k++) values[k] = sigmoid(values[k]);
  return values;
}

/**
 * The glomerulus probability map from a raw model output. `dims` is the output tensor shape: [1, C, H, W] for
 * NCHW cards, [1, H, W, C] for NHWC cards, or [1, H, W] / [H, W] for a single-channel output. The card's
 * output channel is picked and, for 'logits' outputs, passed through the sigmoid, unless `keepLogits` asks for the
 * logits as they are (a map with `logits: true`: for a tile that is only cut, see map-values.ts).
 */
export function toProbabilityMap(
  output: Float32Array,
  dims: readonly number[],
  card: ModelCard,
  options: { keepLogits?: boolean } = {},
): ProbabilityMap {
  let width: number;
  let height: number;
  let channels = 1;
  let channelsLast = false;
  if (dims.length === 4) {
    if (dims[0] !== 1)
      throw new GlomsegError('INTERNAL', `model ${card.id} returned a batch of ${dims[0]}, expected 1`);
    if (card.input.layout === 'NCHW') [, channels, height, width] = dims;
    else {
      [, height, width, channels] = dims;
      channelsLast = true;
    }
  } else if (dims.length === 3 && dims[0] === 1) {
    [, height, width] = dims;
  } else if (dims.length === 2) {
    [height, width] = dims;
  } else {
    throw new GlomsegError(
      'INTERNAL',
      `model ${card.id} returned an output of shape [${dims.join(', ')}], expected [1, C, H, W] or [1, H, W, C]`,
    );
  }
  const pixels = width * height;
  if (output.length !== pixels * channels) {
    throw new GlomsegError('INTERNAL', `model output of shape [${dims.join(', ')}] holds ${output.length} values`);
  }
  const channel = card.output.channel;
  if (channel < 0 || channel >= channels) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `model ${card.id} names output channel ${channel}, but the output has ${channels}`,
    );
  }
  const data = new Float32Array(pixels);
  if (channelsLast) for (let p = 0; p < pixels; p++) data[p] = output[p * channels + channel];
  else data.set(output.subarray(channel * pixels, (channel + 1) * pixels));
  if (card.output.kind !== 'logits') return { width, height, data };
  if (options.keepLogits) return { width, height, data, logits: true };
  return { width, height, data: applySigmoid(data) };
}

/** The kept centre of a probability map (the tile without its context margin). */
export function cropProbability(
  map: ProbabilityMap,
  keepX: number,
  keepY: number,
  keepWidth: number,
  keepHeight: number,
): ProbabilityMap {
  const inside =
    [keepX, keepY, keepWidth, keepHeight].every(Number.isInteger) &&
    keepX >= 0 &&
    keepY >= 0 &&
    keepWidth >= 0 &&
    keepHeight >= 0 &&
    keepX + keepWidth <= map.width &&
    keepY + keepHeight <= map.height;
  if (!inside) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `crop ${keepWidth} x ${keepHeight} at (${keepX}, ${keepY}) does not fit inside the ${map.width} x ${map.height} probability map`,
    );
  }
  const data = cropRows(map.data, map.width, keepX, keepY, keepWidth, keepHeight);
  return map.logits
    ? { width: keepWidth, height: keepHeight, data, logits: true }
    : { width: keepWidth, height: keepHeight, data };
}

/** A rectangle of a row-major raster of `width` columns, copied (the caller has checked that it fits). */
export function cropRows<T extends Float32Array | Uint8Array>(
  data: T,
  width: number,
  x: number,
  y: number,
  cropWidth: number,
  cropHeight: number,
): T {
  const out = new (data.constructor as new (length: number) => T)(cropWidth * cropHeight);
  for (let row = 0; row < cropHeight; row++) {
    const from = (y + row) * width + x;
    out.set(data.subarray(from, from + cropWidth), row * cropWidth);
  }
  return out;
}
