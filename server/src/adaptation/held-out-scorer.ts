/**
 * Held-out regions scored by the product itself: each region's box goes through the service's ScoreSlide (the same
 * tiles, stain normalisation, post-processing and Dice code a user's score gets), its glomeruli as GeoJSON truth.
 * Mean image Dice is the mean of the regions' Dice (1 where neither side has a glomerulus); objects are pooled.
 */
import { checkScoreSlide } from '@glomseg/api/server/request-checks.js';
import {
  outlineBounds,
  type HeldOutFigures,
  type HeldOutScorer,
  type ReviewedRegion,
} from '@glomseg/shared/adaptation.js';
import { objectMatchOf } from '@glomseg/shared/dice.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import type { GlomsegService, ScoreResult } from '@glomseg/shared/glomseg-service.js';
import { GlomsegError } from '@glomseg/shared/errors.js';

export class ServiceHeldOutScorer implements HeldOutScorer {
  constructor(private readonly service: Pick<GlomsegService, 'scoreSlide'>) {}

  async score(
    modelId: string,
    regions: readonly ReviewedRegion[],
    signal: AbortSignal,
    mppOverride?: number,
  ): Promise<HeldOutFigures> {
    let diceSum = 0;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let predicted = 0;
    for (const region of regions) {
      const scored = await this.scoreRegion(modelId, region, signal, mppOverride);
      predicted += scored.predicted;
      diceSum += scored.dice;
      tp += scored.tp;
      fp += scored.fp;
      fn += scored.fn;
    }
    const match = objectMatchOf(tp, fp, fn);
    return {
      regions: regions.length,
      glomeruli: regions.reduce((n, r) => n + r.glomeruli.length, 0),
      predicted,
      meanImageDice: regions.length > 0 ? diceSum / regions.length : 0,
      precision: match.precision,
      recall: match.recall,
      f1: match.f1,
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
    };
  }

  private async scoreRegion(modelId: string, region: ReviewedRegion, signal: AbortSignal, mppOverride?: number) {
    const truth = region.glomeruli.length > 0 ? geojsonOf(region.glomeruli) : undefined;
    const annotations =
      truth === undefined
        ? undefined
        : { content: truth, format: 'geojson' as const, name: `${region.id}.geojson`, classes: ['*'] };
    const params = checkScoreSlide({
      slideId: region.slideId,
      modelId,
      region: integerBox(outlineBounds(region.outline)),
      annotations,
      mppOverride,
    });
    let result: ScoreResult | undefined;
    for await (const event of this.service.scoreSlide(params, signal))
      if (event.kind === 'result') result = event.result;
    if (!result) throw new GlomsegError('INTERNAL', `scoring held-out region ${region.id} gave no result`);
    const predicted = result.polygons.length;
    const m = result.metrics;
    // No truth: a region reviewed as holding no glomerulus; every prediction in it is a false one.
    if (!m) return { predicted, dice: predicted === 0 ? 1 : 0, tp: 0, fp: predicted, fn: 0 };
    return { predicted, dice: m.globalDice, tp: m.truePositives, fp: m.falsePositives, fn: m.falseNegatives };
  }
}

function integerBox(box: Rect): Rect {
  const x = Math.floor(box.x);
  const y = Math.floor(box.y);
  return { x, y, width: Math.ceil(box.x + box.width) - x, height: Math.ceil(box.y + box.height) - y };
}

function closed(ring: Array<[number, number]>): Array<[number, number]> {
  return [...ring, ring[0]!];
}

function geojsonOf(polygons: readonly Polygon[]): string {
  return JSON.stringify({
    type: 'FeatureCollection',
    features: polygons.map((p) => ({
      type: 'Feature',
      properties: { objectType: 'annotation', classification: { name: 'Glomerulus' } },
      geometry: { type: 'Polygon', coordinates: [closed(p.exterior), ...p.holes.map(closed)] },
    })),
  });
}
