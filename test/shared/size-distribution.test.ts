import { describe, expect, it } from 'vitest';
import { SIZE_BINS_UM2, areasUm2, densityPerMm2, histogramSvg, sizeHistogram } from '@glomseg/shared/size-distribution.js';
import { tissueShare } from '@glomseg/shared/tissue-mask.js';

describe('size distribution', () => {
  it('bins areas in um^2, the largest in the last bin', () => {
    const areas = areasUm2([{ area: 4000 }, { area: 12000 }, { area: 1e6 }], 0.5); // 1000, 3000, 250000 um^2
    expect(areas).toEqual([1000, 3000, 250000]);
    const histogram = sizeHistogram(areas);
    expect(histogram.counts).toHaveLength(SIZE_BINS_UM2.length - 1);
    expect(histogram.counts[0]).toBe(1);
    expect(histogram.counts[1]).toBe(1);
    expect(histogram.counts.at(-1)).toBe(1);
    expect(histogram.counts.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('counts glomeruli per mm^2', () => {
    // 2000 x 2000 px at 0.5 um/px is 1 mm^2.
    expect(densityPerMm2(7, 2000 * 2000, 0.5)).toBeCloseTo(7, 10);
    expect(densityPerMm2(7, 0, 0.5)).toBe(0);
  });

  it('tells stained tissue from the white and grey background', () => {
    // PAS pink, haematoxylin purple, white glass, light grey background.
    expect(tissueShare(new Uint8Array([220, 120, 200, 90, 60, 140, 245, 245, 245, 200, 200, 202]))).toBe(0.5);
  });

  it('draws one bar per bin and marks the median', () => {
    const areas = [5000, 6000, 7000];
    const svg = histogramSvg(sizeHistogram(areas), areas);
    expect(svg.match(/<rect /g)).toHaveLength(SIZE_BINS_UM2.length - 1);
    expect(svg).toContain('median 6,000 µm²');
    expect(svg.startsWith('<svg')).toBe(true);
  });
});
