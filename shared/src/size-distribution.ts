/**
 * The size distribution of found glomeruli, drawn the same way in the viewer's panel and the CLI's HTML report:
 * areas in um^2, a histogram on fixed bins, and a small self-contained SVG of it (numbers only, no markup from input).
 */
import type { GlomerulusPolygon } from './geometry.js';

export interface Histogram {
  /** Bin edges in um^2: counts[i] holds areas in [edges[i], edges[i + 1]); the last bin takes everything above. */
  edges: number[];
  counts: number[];
}

/** 2,500 um^2 bins up to 40,000 um^2 (a glomerulus 225 um across); larger ones count in the last bin. */
export const SIZE_BINS_UM2: readonly number[] = Array.from({ length: 17 }, (_, i) => i * 2500);

export function areasUm2(polygons: readonly Pick<GlomerulusPolygon, 'area'>[], mpp: number): number[] {
  return polygons.map((p) => p.area * mpp * mpp);
}

export function sizeHistogram(areas: readonly number[], edges: readonly number[] = SIZE_BINS_UM2): Histogram {
  const counts = new Array(edges.length - 1).fill(0);
  for (const area of areas) {
    let bin = edges.findIndex((edge, i) => i < edges.length - 1 && area < edges[i + 1]);
    if (bin < 0) bin = counts.length - 1;
    counts[bin]++;
  }
  return { edges: [...edges], counts };
}

/** Glomeruli per mm^2 of an area given in level-0 square pixels at `mpp`. */
export function densityPerMm2(count: number, areaPx: number, mpp: number): number {
  const mm2 = (areaPx * mpp * mpp) / 1e6;
  return mm2 > 0 ? count / mm2 : 0;
}

export interface GlomerulusDensity {
  perMm2: number;
  /** The area counted over, in mm^2. */
  mm2: number;
  /** Of the tissue where it was measured (some tissue found), else of the whole area. */
  of: 'tissue' | 'area';
}

/**
 * Glomeruli per mm^2 of tissue, else of the area looked at (level-0 square pixels at `mpp`), and the figures as
 * printed: the viewer's panel and report.html both say it through here, so they round alike.
 */
export function glomerulusDensity(
  count: number,
  area: { tissuePx: number; areaPx: number },
  mpp: number,
): GlomerulusDensity & { text: { perMm2: string; mm2: string } } {
  const of = area.tissuePx > 0 ? 'tissue' : 'area';
  const px = of === 'tissue' ? area.tissuePx : area.areaPx;
  const mm2 = (px * mpp * mpp) / 1e6;
  const perMm2 = densityPerMm2(count, px, mpp);
  return { perMm2, mm2, of, text: { perMm2: perMm2.toFixed(2), mm2: mm2.toFixed(2) } };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The histogram as an SVG element's markup, with its axis in thousands of um^2 and the median marked. */
export function histogramSvg(
  histogram: Histogram,
  areas: readonly number[],
  size = { width: 260, height: 110 },
): string {
  const { width, height } = size;
  const pad = { left: 24, right: 6, top: 14, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const most = Math.max(1, ...histogram.counts);
  const barW = plotW / histogram.counts.length;
  const maxEdge = histogram.edges[histogram.edges.length - 1];
  const bars = histogram.counts
    .map((count, i) => {
      const h = (count / most) * plotH;
      return `<rect x="${(pad.left + i * barW + 0.5).toFixed(1)}" y="${(pad.top + plotH - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="currentColor" opacity="0.75"><title>${histogram.edges[i] / 1000}–${i === histogram.counts.length - 1 ? '∞' : histogram.edges[i + 1] / 1000} thousand µm²: ${count}</title></rect>`;
    })
    .join('');
  const ticks = [0, maxEdge / 2, maxEdge]
    .map(
      (edge) =>
        `<text x="${(pad.left + (edge / maxEdge) * plotW).toFixed(1)}" y="${height - 8}" font-size="9" text-anchor="middle" fill="currentColor">${edge / 1000}k</text>`,
    )
    .join('');
  const med = median(areas);
  const medX = pad.left + (Math.min(med, maxEdge) / maxEdge) * plotW;
  const medianMark = areas.length
    ? `<line x1="${medX.toFixed(1)}" x2="${medX.toFixed(1)}" y1="${pad.top - 2}" y2="${pad.top + plotH}" stroke="currentColor" stroke-dasharray="3 2"/><text x="${Math.min(width - 40, medX + 3).toFixed(1)}" y="${pad.top - 4}" font-size="9" fill="currentColor">median ${Math.round(med).toLocaleString('en')} µm²</text>`
    : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Glomerulus sizes: ${areas.length} glomeruli, median ${Math.round(med)} µm²">` +
    `<text x="2" y="${pad.top + 8}" font-size="9" fill="currentColor">${most}</text>` +
    `<line x1="${pad.left}" x2="${width - pad.right}" y1="${pad.top + plotH}" y2="${pad.top + plotH}" stroke="currentColor" opacity="0.5"/>` +
    bars +
    ticks +
    medianMark +
    `<text x="${width - pad.right}" y="${height - 1}" font-size="9" text-anchor="end" fill="currentColor">area, µm²</text></svg>`
  );
}
