import { describe, expect, it } from 'vitest';
import { labToRgb, rgbToLab } from '@glomseg/shared/colour-lab.js';

// Reference values: CIE L*a*b* (D65) of sRGB colours as published in colour-science tables (2 decimals).
const KNOWN: Array<[[number, number, number], [number, number, number]]> = [
  [[255, 255, 255], [100, 0, 0]],
  [[0, 0, 0], [0, 0, 0]],
  [[128, 128, 128], [53.59, 0, 0]],
  [[255, 0, 0], [53.24, 80.09, 67.2]],
  [[0, 255, 0], [87.73, -86.18, 83.18]],
  [[0, 0, 255], [32.3, 79.19, -107.86]],
];

describe('colour-lab', () => {
  it.each(KNOWN)('sRGB %j is Lab %j', (rgb, lab) => {
    const got = rgbToLab(...rgb);
    for (let c = 0; c < 3; c++) expect(got[c]).toBeCloseTo(lab[c], 1);
  });

  it('goes back to the same bytes for every grey and for a spread of colours', () => {
    for (let v = 0; v < 256; v++) expect(labToRgb(...rgbToLab(v, v, v))).toEqual([v, v, v]);
    for (let r = 0; r < 256; r += 17) for (let g = 0; g < 256; g += 17) for (let b = 0; b < 256; b += 17) expect(labToRgb(...rgbToLab(r, g, b))).toEqual([r, g, b]);
  });

  it('clips colours outside sRGB to the nearest bytes', () => {
    expect(labToRgb(150, 0, 0)).toEqual([255, 255, 255]);
    expect(labToRgb(-10, 0, 0)).toEqual([0, 0, 0]);
  });
});
