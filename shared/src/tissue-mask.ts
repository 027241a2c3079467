/**
 * Which pixels are tissue and which are glass. Glass is bright and grey; stained tissue is coloured, or dark. Pen
 * marks and dust at the extremes (almost black) are not tissue either. Pure: same bytes in, same mask out.
 * training/stain.py uses the same rule.
 */
import type { Rect } from './geometry.js';
import type { RgbImage } from './slide-source.js';

export const TISSUE_RULE = {
  /** max - min of R, G, B at or above which a pixel counts as stained (glass is grey: a few levels at most). */
  minChroma: 15,
  /** Mean of R, G, B below which a pixel counts as tissue whatever its colour (dense, dark staining). */
  darkBelow: 200,
  /** Mean of R, G, B below which a pixel is ink or a fold, not tissue. */
  blackBelow: 25,
  /** Mean of R, G, B at or above which a pixel is glass, however coloured (bright, tinted glass). */
  glassFrom: 235,
} as const;

// The rule on sums of R + G + B rather than means: the same for whole bytes, and no division per pixel.
const BLACK_SUM_BELOW = 3 * TISSUE_RULE.blackBelow;
const GLASS_SUM_FROM = 3 * TISSUE_RULE.glassFrom;
const DARK_SUM_BELOW = 3 * TISSUE_RULE.darkBelow;

export function isTissue(r: number, g: number, b: number): boolean {
  const sum = r + g + b;
  if (sum < BLACK_SUM_BELOW || sum >= GLASS_SUM_FROM) return false;
  if (sum < DARK_SUM_BELOW) return true;
  const max = r > g ? (r > b ? r : b) : g > b ? g : b;
  const min = r < g ? (r < b ? r : b) : g < b ? g : b;
  return max - min >= TISSUE_RULE.minChroma;
}

/** Share of an image's pixels (RGB, or RGBA with `channels` 4) that are tissue. */
export function tissueShare(data: Uint8Array | Uint8ClampedArray, channels = 3): number {
  let tissue = 0;
  const pixels = Math.floor(data.length / channels);
  for (let i = 0; i < pixels * channels; i += channels) if (isTissue(data[i], data[i + 1], data[i + 2])) tissue++;
  return pixels > 0 ? tissue / pixels : 0;
}

/** One byte per pixel, 1 for tissue; and the tissue fraction. */
export function tissueMask(image: RgbImage): { mask: Uint8Array; fraction: number } {
  const pixels = image.width * image.height;
  const mask = new Uint8Array(pixels);
  let count = 0;
  const d = image.data;
  for (let p = 0; p < pixels; p++) {
    if (isTissue(d[p * 3], d[p * 3 + 1], d[p * 3 + 2])) {
      mask[p] = 1;
      count++;
    }
  }
  return { mask, fraction: pixels > 0 ? count / pixels : 0 };
}

/** Where a slide's tissue is: a coarse mask laid over the whole slide. */
export interface TissueMap {
  width: number;
  height: number;
  /** 1 where the map shows tissue, row-major. */
  mask: Uint8Array;
  /** Level-0 pixels per map pixel, in x and y. */
  scaleX: number;
  scaleY: number;
}

/** The map pixels a level-0 rectangle covers, widened by `slack` map pixels on each side, clipped to the map. */
function mapWindow(map: TissueMap, rect: Rect, slack: number): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: Math.max(0, Math.floor(rect.x / map.scaleX) - slack),
    y0: Math.max(0, Math.floor(rect.y / map.scaleY) - slack),
    x1: Math.min(map.width, Math.ceil((rect.x + rect.width) / map.scaleX) + slack),
    y1: Math.min(map.height, Math.ceil((rect.y + rect.height) / map.scaleY) + slack),
  };
}

/** True when the map shows any tissue inside a level-0 rectangle, or when there is no map (then assume tissue). */
export function tissueIn(map: TissueMap | undefined, rect: Rect): boolean {
  if (!map) return true;
  // One map pixel of slack on each side: the map is coarse, and a glomerulus at a tile's edge must not be lost.
  const { x0, y0, x1, y1 } = mapWindow(map, rect, 1);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (map.mask[y * map.width + x]) return true;
  return false;
}

/** Share of the map pixels inside a level-0 rectangle that show tissue (0 outside the map). */
export function tissueShareIn(map: TissueMap, rect: Rect): number {
  const { x0, y0, x1, y1 } = mapWindow(map, rect, 0);
  let tissue = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) tissue += map.mask[y * map.width + x];
  const all = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return all > 0 ? tissue / all : 0;
}

/**
 * Tissue inside a level-0 rectangle, in level-0 square pixels: each tissue pixel of the map counts the part of it
 * the rectangle covers. So the areas of tiles that cut a slide into pieces add up to the slide's (the viewer sums its
 * tiles', a score takes its region's): one measure of tissue, whatever the tiling.
 */
export function tissueAreaIn(map: TissueMap, rect: Rect): number {
  const { x0, y0, x1, y1 } = mapWindow(map, rect, 0);
  const right = rect.x + rect.width;
  const bottom = rect.y + rect.height;
  let area = 0;
  for (let y = y0; y < y1; y++) {
    const h = Math.min(bottom, (y + 1) * map.scaleY) - Math.max(rect.y, y * map.scaleY);
    if (h <= 0) continue;
    let w = 0;
    for (let x = x0; x < x1; x++) {
      if (map.mask[y * map.width + x]) w += Math.min(right, (x + 1) * map.scaleX) - Math.max(rect.x, x * map.scaleX);
    }
    area += w * h;
  }
  return area;
}
