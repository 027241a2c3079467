/**
 * sRGB (D65) <-> CIE L*a*b*, per pixel, in plain numbers. Stain normalisation works in Lab because there a stain's
 * lightness and its two colour axes are nearly independent, so their means and spreads can be matched one by one.
 * training/stain.py implements the same formulas; test/training/stain-parity.test.ts holds the two together.
 */

/** D65 reference white, the XYZ of sRGB (255, 255, 255). */
const WHITE = [0.95047, 1.0, 1.08883] as const;
const EPSILON = (6 / 29) ** 3;
const KAPPA_INV = 1 / (3 * (6 / 29) ** 2);

/** sRGB byte -> linear light in [0, 1]. A table: there are only 256 inputs. */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

const f = (t: number): number => (t > EPSILON ? Math.cbrt(t) : t * KAPPA_INV + 4 / 29);
const fInverse = (t: number): number => (t > 6 / 29 ? t * t * t : (t - 4 / 29) / KAPPA_INV);

/**
 * Linear light -> the nearest sRGB byte, exactly as rounding the encoded value, without a power per call (the
 * slow part of mapping a tile): BOUNDS[k] is the linear value where byte k turns into k + 1, and a coarse table
 * says where to start looking, at most a step or two below the answer.
 */
const BOUNDS = Float64Array.from({ length: 255 }, (_, k) => {
  const c = (k + 0.5) / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});
const START_BINS = 4096;
const START = Uint8Array.from({ length: START_BINS }, (_, i) => {
  let k = 0;
  while (k < 255 && BOUNDS[k] <= i / START_BINS) k++;
  return k;
});

export function linearToSrgbByte(linear: number): number {
  if (!(linear > 0)) return 0;
  if (linear >= 1) return 255;
  let k = START[(linear * START_BINS) | 0];
  while (k < 255 && BOUNDS[k] <= linear) k++;
  return k;
}

/** L in [0, 100], a and b roughly in [-128, 128]. Writes into `out` (no allocation per pixel). */
export function rgbToLab(
  r: number,
  g: number,
  b: number,
  out: [number, number, number] = [0, 0, 0],
): [number, number, number] {
  const R = LINEAR[r];
  const G = LINEAR[g];
  const B = LINEAR[b];
  const fx = f((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / WHITE[0]);
  const fy = f((0.2126729 * R + 0.7151522 * G + 0.072175 * B) / WHITE[1]);
  const fz = f((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / WHITE[2]);
  out[0] = 116 * fy - 16;
  out[1] = 500 * (fx - fy);
  out[2] = 200 * (fy - fz);
  return out;
}

/** The nearest sRGB bytes (clipped to the gamut) of a Lab colour. */
export function labToRgb(
  L: number,
  a: number,
  bStar: number,
  out: [number, number, number] = [0, 0, 0],
): [number, number, number] {
  const fy = (L + 16) / 116;
  const X = WHITE[0] * fInverse(fy + a / 500);
  const Y = WHITE[1] * fInverse(fy);
  const Z = WHITE[2] * fInverse(fy - bStar / 200);
  out[0] = linearToSrgbByte(3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z);
  out[1] = linearToSrgbByte(-0.969266 * X + 1.8760108 * Y + 0.041556 * Z);
  out[2] = linearToSrgbByte(0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z);
  return out;
}
