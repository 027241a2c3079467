/**
 * Reading a probability map's values as probabilities, whether it holds them or the model's logits. A tile cut into
 * polygons and nothing more compares every pixel with a threshold but needs the probability of few of them (the
 * pixels it floods or measures), so it keeps the logits and compares them with each threshold's logit instead: the
 * same pixels pass as if every sigmoid had been taken and stored, without taking them.
 */
import { sigmoid } from './preprocess.js';
import type { ProbabilityMap } from './segmenter.js';

/**
 * The cut in `map`'s own values for probability `p`: a value of the map means a probability of at least p exactly
 * when it is >= this. Where a probability is needed itself, a logit map's readers take `probabilityOfLogit`.
 */
export function cutFor(map: Pick<ProbabilityMap, 'logits'>, p: number): number {
  return map.logits ? logitCutoff(p) : p;
}

/** The probability a probability map stores for a float32 logit. */
export function probabilityOfLogit(logit: number): number {
  return Math.fround(sigmoid(logit));
}

const bits = new Float32Array(1);
const bitsAsInt = new Int32Array(bits.buffer);

/** The float32 next to `x` (finite), up or down. */
function stepFloat32(x: number, up: boolean): number {
  bits[0] = x;
  if (x === 0) return up ? 2 ** -149 : -(2 ** -149);
  // Float32 bit patterns run the same way as their values for positive numbers and the other way for negative.
  bitsAsInt[0] += x > 0 === up ? 1 : -1;
  return bits[0];
}

/**
 * The smallest float32 logit whose stored probability is at least `p`, so that `logit >= logitCutoff(p)` exactly when
 * `probabilityOfLogit(logit) >= p`, for every float32 logit (-Infinity for p <= 0; NaN, which nothing reaches, for
 * p > 1 or NaN). That holds because the stored probability never falls as the logit rises (tested).
 */
export function logitCutoff(p: number): number {
  if (!(p <= 1)) return Number.NaN;
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  const reaches = (x: number): boolean => probabilityOfLogit(x) >= p;
  // Far enough out that float32 probabilities are 0 below and 1 above.
  let low = -128;
  let high = 128;
  for (let i = 0; i < 200 && high - low > 0; i++) {
    const middle = Math.fround((low + high) / 2);
    if (middle === low || middle === high) break;
    if (reaches(middle)) high = middle;
    else low = middle;
  }
  let cut = Math.fround(high);
  while (reaches(stepFloat32(cut, false))) cut = stepFloat32(cut, false);
  while (!reaches(cut)) cut = stepFloat32(cut, true);
  return cut;
}
