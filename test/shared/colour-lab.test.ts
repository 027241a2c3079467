import { describe, expect, it } from 'vitest';
import { labToRgb, linearToSrgbByte, rgbToLab } from '@glomseg/shared/colour-lab.js';

// Reference values: CIE L*a*b* (D65) of sRGB colours as published in colour-science tables (2 decimals).
const KNOWN: Array<[[number, number, number], [number, number, number]]> = [
  [
    [255, 255, 255],
    [100, 0, 0],
  ],
  [
    [0, 0, 0],
    [0, 0, 0],
  ],
  [
    [128, 128, 128],
    [53.59, 0, 0],
  ],
  [
    [255, 0, 0],
    [53.24, 80.09, 67.2],
  ],
  [
    [0, 255, 0],
    [87.73, -86.18, 83.18],
  ],
  [
    [0, 0, 255],
    [32.3, 79.19, -107.86],
  ],
];

describe('colour-lab', () => {
  it.each(KNOWN)('sRGB %j is Lab %j', (rgb, lab) => {
    const got = rgbToLab(...rgb);
    for (let c = 0; c < 3; c++) expect(got[c]).toBeCloseTo(lab[c], 1);
  });

  it('goes back to the same bytes for every grey and for a spread of colours', () => {
    for (let v = 0; v < 256; v++) expect(labToRgb(...rgbToLab(v, v, v))).toEqual([v, v, v]);
    for (let r = 0; r < 256; r += 17)
      for (let g = 0; g < 256; g += 17)
        for (let b = 0; b < 256; b += 17) expect(labToRgb(...rgbToLab(r, g, b))).toEqual([r, g, b]);
  });

  it('encodes linear light as the rounded sRGB formula does, on both sides of every byte boundary', () => {
    // The formula, written out: the table-driven encoder must give exactly its bytes.
    const formula = (linear: number): number => {
      const c = linear <= 0.0031308 ? linear * 12.92 : 1.055 * linear ** (1 / 2.4) - 0.055;
      return Math.min(255, Math.max(0, Math.round(c * 255)));
    };
    const toLinear = (c: number): number => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    let checked = 0;
    for (let k = 0; k < 255; k++) {
      const boundary = toLinear((k + 0.5) / 255);
      for (const linear of [boundary * (1 - 1e-9), boundary * (1 + 1e-9), toLinear(k / 255)]) {
        expect(linearToSrgbByte(linear)).toBe(formula(linear));
        checked++;
      }
    }
    expect(checked).toBe(765);
    for (const linear of [-0.5, 0, 1, 1.5]) expect(linearToSrgbByte(linear)).toBe(formula(linear));
  });

  it('clips colours outside sRGB to the nearest bytes', () => {
    expect(labToRgb(150, 0, 0)).toEqual([255, 255, 255]);
    expect(labToRgb(-10, 0, 0)).toEqual([0, 0, 0]);
  });
});
