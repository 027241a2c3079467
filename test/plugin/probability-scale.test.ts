/** The heatmap's colour scale: ordered dark to light (readable in greyscale and with any colour-vision deficiency). */
import { describe, expect, it } from 'vitest';
import { converter, filterDeficiencyDeuter, filterDeficiencyProt, filterDeficiencyTrit, parse } from 'culori';
import { PROBABILITY_STOPS, probabilityGradientCss, probabilityRgb } from '../../plugin/src/probability-scale.js';

const lab = converter('lab');
const hex = ([r, g, b]: number[]) => `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;

describe('probability colour scale', () => {
  it('runs from the first stop to the last, and clamps what lies outside 0..1', () => {
    expect(hex(probabilityRgb(0))).toBe(PROBABILITY_STOPS[0]);
    expect(hex(probabilityRgb(1))).toBe(PROBABILITY_STOPS.at(-1));
    expect(probabilityRgb(-3)).toEqual(probabilityRgb(0));
    expect(probabilityRgb(7)).toEqual(probabilityRgb(1));
    expect(probabilityRgb(Number.NaN)).toEqual(probabilityRgb(0));
    expect(hex(probabilityRgb(0.5))).toBe(PROBABILITY_STOPS[4]);
  });

  it('grows lighter with the probability, for normal, protan, deutan and tritan vision', () => {
    const simulate = [
      (c: string) => parse(c)!,
      (c: string) => filterDeficiencyProt(1)(parse(c)!),
      (c: string) => filterDeficiencyDeuter(1)(parse(c)!),
      (c: string) => filterDeficiencyTrit(1)(parse(c)!),
    ];
    for (const vision of simulate) {
      const lightness = Array.from({ length: 21 }, (_, i) => lab(vision(hex(probabilityRgb(i / 20))))!.l);
      for (let i = 1; i < lightness.length; i++) expect(lightness[i]).toBeGreaterThan(lightness[i - 1]);
    }
  });

  it('gives legends the same stops as a CSS gradient', () => {
    expect(probabilityGradientCss()).toBe(`linear-gradient(to right, ${PROBABILITY_STOPS.join(', ')})`);
  });
});
