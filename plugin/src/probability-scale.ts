/**
 * The heatmap's colour scale for a probability 0..1: viridis (perceptually uniform, ordered dark to light, readable
 * with any colour-vision deficiency and in greyscale), the scale HistomicsTK and QuPath offer for probability maps.
 */

/** Viridis at 0, 1/8, …, 1 (matplotlib's table). */
export const PROBABILITY_STOPS: readonly string[] = [
  '#440154',
  '#46327e',
  '#365c8d',
  '#277f8e',
  '#1fa187',
  '#4ac16d',
  '#a0da39',
  '#d0e11c',
  '#fde725',
];

const STOP_RGB = PROBABILITY_STOPS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

/** The scale's colour for `p` as [r, g, b] (0..255); out-of-range and NaN clamp to the ends (NaN: 0). */
export function probabilityRgb(p: number): [number, number, number] {
  const t = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
  const at = t * (STOP_RGB.length - 1);
  const i = Math.min(STOP_RGB.length - 2, Math.floor(at));
  const f = at - i;
  const [a, b] = [STOP_RGB[i], STOP_RGB[i + 1]];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as [number, number, number];
}

/** The scale as a CSS gradient, left (0) to right (1), for legends. */
export function probabilityGradientCss(): string {
  return `linear-gradient(to right, ${PROBABILITY_STOPS.join(', ')})`;
}

/** Probabilities under this are not drawn by the heatmap: the tissue shows through where the model sees nothing. */
export const HEATMAP_FLOOR = 0.1;

/**
 * The heatmap's colour for each grey level of a probability PNG (level / 255): 256 RGBA entries, opaque from
 * HEATMAP_FLOOR up (the layer's opacity blends them), transparent under it.
 */
export function heatmapPalette(): Uint8ClampedArray {
  const palette = new Uint8ClampedArray(256 * 4);
  for (let level = 0; level < 256; level++) {
    const p = level / 255;
    palette.set([...probabilityRgb(p), p >= HEATMAP_FLOOR ? 255 : 0], level * 4);
  }
  return palette;
}
