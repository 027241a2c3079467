/** The map's colours as people with colour-vision deficiencies see them (culori's Machado et al. simulation). */
import { describe, expect, it } from 'vitest';
import {
  type Color,
  parse,
  differenceCiede2000,
  filterDeficiencyDeuter,
  filterDeficiencyProt,
  filterDeficiencyTrit,
} from 'culori';
import { CLASS_COLOURS, LEGEND } from '../../plugin/src/feature-styles.js';

const deltaE = differenceCiede2000();
const rgb = (colour: string): Color => parse(colour)!;
const VISION: Record<string, (colour: string) => Color> = {
  normal: rgb,
  protan: (colour) => filterDeficiencyProt(1)(rgb(colour)),
  deutan: (colour) => filterDeficiencyDeuter(1)(rgb(colour)),
  tritan: (colour) => filterDeficiencyTrit(1)(rgb(colour)),
};

function pairs<T>(items: T[]): Array<[T, T]> {
  return items.flatMap((a, i) => items.slice(i + 1).map((b) => [a, b] as [T, T]));
}

describe('match-class colours', () => {
  it('keep true positive, false positive and missed >= 20 CIEDE2000 apart under protan, deutan and tritan vision', () => {
    const scored = [CLASS_COLOURS['true-positive'], CLASS_COLOURS['false-positive'], CLASS_COLOURS.missed];
    for (const [vision, simulate] of Object.entries(VISION)) {
      for (const [a, b] of pairs(scored))
        expect(deltaE(simulate(a), simulate(b)), `${vision}: ${a} vs ${b}`).toBeGreaterThanOrEqual(20);
    }
  });

  it('keep "not scored yet" apart from every scored class', () => {
    for (const [vision, simulate] of Object.entries(VISION)) {
      for (const cls of ['true-positive', 'false-positive', 'missed'] as const) {
        expect(
          deltaE(simulate(CLASS_COLOURS.prediction), simulate(CLASS_COLOURS[cls])),
          `${vision}: prediction vs ${cls}`,
        ).toBeGreaterThanOrEqual(15);
      }
    }
  });

  it('are all explained by the legend, dashed ground truth and solid predictions included', () => {
    expect(new Set(LEGEND.map((entry) => entry.cls))).toEqual(
      new Set(['prediction', 'annotation', 'true-positive', 'false-positive', 'missed']),
    );
    expect(LEGEND.find((entry) => entry.cls === 'annotation')?.dashed).toBe(true);
    expect(LEGEND.find((entry) => entry.cls === 'prediction')?.dashed).toBe(false);
  });
});
