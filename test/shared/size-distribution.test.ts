import { describe, expect, it } from 'vitest';
import {
  SIZE_BINS_UM2,
  areasUm2,
  densityPerMm2,
  glomerulusDensity,
  histogramSvg,
  sizeHistogram,
} from '@glomseg/shared/size-distribution.js';
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

  it('counts per mm^2 of tissue where tissue was measured, else of the area, printed to two decimals', () => {
    // 67 glomeruli over 29.92e6 px^2 of tissue at 0.5 um/px = 7.48 mm^2.
    const ofTissue = glomerulusDensity(67, { tissuePx: 29.92e6, areaPx: 40e6 }, 0.5);
    expect(ofTissue.of).toBe('tissue');
    expect(ofTissue.mm2).toBeCloseTo(7.48, 10);
    expect(ofTissue.text).toEqual({ perMm2: '8.96', mm2: '7.48' });
    const ofArea = glomerulusDensity(7, { tissuePx: 0, areaPx: 2000 * 2000 }, 0.5);
    expect(ofArea).toMatchObject({ of: 'area', perMm2: 7, mm2: 1, text: { perMm2: '7.00', mm2: '1.00' } });
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
