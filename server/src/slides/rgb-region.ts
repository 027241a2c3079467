/** Region requests: validation, resource limits, and the RGB buffer helpers every slide source uses. */
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { RegionRequest, RgbImage } from '@glomseg/shared/slide-source.js';

/** Largest region one readRegion call returns (64 Mpixel = 192 MB of RGB). */
export const MAX_REGION_OUTPUT_PIXELS = 64 * 1024 * 1024;
/** Largest area of a finer level one call may read to synthesise a coarser region. */
export const MAX_REGION_SOURCE_PIXELS = 256 * 1024 * 1024;
const MAX_EDGE = 1 << 20;

/** Throws INVALID_ARGUMENT for malformed requests and RESOURCE_EXHAUSTED for ones too big to serve. */
export function validateRegion(region: RegionRequest, levelCount: number): void {
  const { level, x, y, width, height } = region;
  if (!Number.isInteger(level) || level < 0 || level >= levelCount) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `level ${level} does not exist: the slide has levels 0 to ${levelCount - 1}`,
    );
  }
  for (const [name, value] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (!Number.isSafeInteger(value) || Math.abs(value) > MAX_EDGE * 4) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `region ${name} must be an integer within ±${MAX_EDGE * 4}, got ${value}`,
      );
    }
  }
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0 || value > MAX_EDGE) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `region ${name} must be an integer from 1 to ${MAX_EDGE}, got ${value}`,
      );
    }
  }
  if (width * height > MAX_REGION_OUTPUT_PIXELS) {
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `region ${width}x${height} is ${((width * height) / 1e6).toFixed(1)} Mpixel; one read may return at most ${MAX_REGION_OUTPUT_PIXELS / (1024 * 1024)} Mpixel — read it in smaller windows`,
    );
  }
}

/** An RGB image filled with white, the value of everything outside a level. */
export function whiteImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3).fill(255) };
}

/** Copies a w x h block from src (at sx, sy) into dst (at dx, dy); the caller clips. */
export function copyBlock(
  src: RgbImage,
  sx: number,
  sy: number,
  dst: RgbImage,
  dx: number,
  dy: number,
  w: number,
  h: number,
): void {
  const rowBytes = w * 3;
  for (let r = 0; r < h; r++) {
    const from = ((sy + r) * src.width + sx) * 3;
    dst.data.set(src.data.subarray(from, from + rowBytes), ((dy + r) * dst.width + dx) * 3);
  }
}

/** The overlap of [a0, a1) and [b0, b1), or undefined when empty. */
export function overlap(a0: number, a1: number, b0: number, b1: number): [number, number] | undefined {
  const lo = Math.max(a0, b0);
  const hi = Math.min(a1, b1);
  return lo < hi ? [lo, hi] : undefined;
}
