/**
 * Model input and output plumbing, shared by the server (onnxruntime-node) and the browser (onnxruntime-web):
 * RGB bytes -> normalised tensor data in the card's layout, model output -> probability map, crop to the kept centre.
 */
import type { ModelCard } from './model-card.js';
import type { ProbabilityMap } from './segmenter.js';
import type { RgbImage } from './slide-source.js';
import { GlomsegError } from './errors.js';

/**
 * Tensor data for a batch of one, shape [1, 3, H, W] (NCHW) or [1, H, W, 3] (NHWC). Each value is
 * `(v / scale - mean[c]) / std[c]`, where c counts channels in the card's channel order (mean and std are
 * listed in that order too).
 */
export function toModelInput(image: RgbImage, card: ModelCard): Float32Array {
  const { width, height, data } = image;
  const pixels = width * height;
  if (data.length !== pixels * 3) {
    throw new GlomsegError('INVALID_ARGUMENT', `RGB image of ${width} x ${height} holds ${data.length} bytes, expected ${pixels * 3}`);
  }
  const { layout, channelOrder, scale, mean, std } = card.input;
  if (!(scale > 0) || std.some((s) => s === 0 || !Number.isFinite(s))) {
    throw new GlomsegError('FAILED_PRECONDITION', `model ${card.id} has an unusable input normalisation (scale ${scale}, std ${std.join(', ')})`);
  }
  // Source byte offset of each model channel.
  const source = channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const multiply = source.map((_, c) => 1 / (scale * std[c]));
  const add = source.map((_, c) => -mean[c] / std[c]);
  const out = new Float32Array(pixels * 3);
  for (let c = 0; c < 3; c++) {
    const s = source[c];
    const m = multiply[c];
    const a = add[c];
    if (layout === 'NCHW') {
      const base = c * pixels;
      for (let p = 0; p < pixels; p++) out[base + p] = data[p * 3 + s] * m + a;
    } else {
      for (let p = 0; p < pixels; p++) out[p * 3 + c] = data[p * 3 + s] * m + a;
    }
  }
  return out;
}

/** Numerically stable logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Applies the sigmoid to every value, in place; returns the same array. */
export function applySigmoid(values: Float32Array): Float32Array {
  for (let k = 0; k < values.length; k++) values[k] = sigmoid(values[k]);
  return values;
}

/**
 * The glomerulus probability map from a raw model output. `dims` is the output tensor shape: [1, C, H, W] for
 * NCHW cards, [1, H, W, C] for NHWC cards, or [1, H, W] / [H, W] for a single-channel output. The card's
 * output channel is picked and, for 'logits' outputs, passed through the sigmoid.
 */
export function toProbabilityMap(output: Float32Array, dims: readonly number[], card: ModelCard): ProbabilityMap {
  let width: number;
  let height: number;
  let channels = 1;
  let channelsLast = false;
  if (dims.length === 4) {
    if (dims[0] !== 1) throw new GlomsegError('INTERNAL', `model ${card.id} returned a batch of ${dims[0]}, expected 1`);
    if (card.input.layout === 'NCHW') [, channels, height, width] = dims;
    else { [, height, width, channels] = dims; channelsLast = true; }
  } else if (dims.length === 3 && dims[0] === 1) {
    [, height, width] = dims;
  } else if (dims.length === 2) {
    [height, width] = dims;
  } else {
    throw new GlomsegError('INTERNAL', `model ${card.id} returned an output of shape [${dims.join(', ')}], expected [1, C, H, W] or [1, H, W, C]`);
  }
  const pixels = width * height;
  if (output.length !== pixels * channels) {
    throw new GlomsegError('INTERNAL', `model output of shape [${dims.join(', ')}] holds ${output.length} values`);
  }
  const channel = card.output.channel;
  if (channel < 0 || channel >= channels) {
    throw new GlomsegError('FAILED_PRECONDITION', `model ${card.id} names output channel ${channel}, but the output has ${channels}`);
  }
  const data = new Float32Array(pixels);
  if (channelsLast) for (let p = 0; p < pixels; p++) data[p] = output[p * channels + channel];
  else data.set(output.subarray(channel * pixels, (channel + 1) * pixels));
  if (card.output.kind === 'logits') applySigmoid(data);
  return { width, height, data };
}

/** The kept centre of a probability map (the tile without its context margin). */
export function cropProbability(map: ProbabilityMap, keepX: number, keepY: number, keepWidth: number, keepHeight: number): ProbabilityMap {
  const inside =
    [keepX, keepY, keepWidth, keepHeight].every(Number.isInteger) &&
    keepX >= 0 && keepY >= 0 && keepWidth >= 0 && keepHeight >= 0 &&
    keepX + keepWidth <= map.width && keepY + keepHeight <= map.height;
  if (!inside) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `crop ${keepWidth} x ${keepHeight} at (${keepX}, ${keepY}) does not fit inside the ${map.width} x ${map.height} probability map`,
    );
  }
  return { width: keepWidth, height: keepHeight, data: cropRows(map.data, map.width, keepX, keepY, keepWidth, keepHeight) };
}

/** A rectangle of a row-major raster of `width` columns, copied (the caller has checked that it fits). */
export function cropRows<T extends Float32Array | Uint8Array>(data: T, width: number, x: number, y: number, cropWidth: number, cropHeight: number): T {
  const out = new (data.constructor as new (length: number) => T)(cropWidth * cropHeight);
  for (let row = 0; row < cropHeight; row++) {
    const from = (y + row) * width + x;
    out.set(data.subarray(from, from + cropWidth), row * cropWidth);
  }
  return out;
}
