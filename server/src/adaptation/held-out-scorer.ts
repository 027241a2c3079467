/**
 * Held-out regions scored by the product itself: the service's ScoreSlide predicts over each region's box (the same
 * tiles, stain normalisation and post-processing a user's score gets), and the scoring pool's Dice and object
 * matching judge the predictions against the region's glomeruli, both cut to the region's outline first: outside
 * it nothing was reviewed, so a prediction there is neither right nor wrong. Every model is scored on its own file
 * (card.file), never a variant, so a parent with an int8 CPU copy and its fp32 candidate are judged alike.
 * Mean image Dice is the mean of the regions' Dice (1 where neither side has a glomerulus); objects are pooled.
 */
import { checkScoreSlide } from '@glomseg/api/server/request-checks.js';
import {
  outlineBounds,
  type HeldOutFigures,
  type HeldOutScorer,
  type ReviewedRegion,
} from '@glomseg/shared/adaptation.js';
import type { AnnotationBudget } from '@glomseg/shared/annotation-budget.js';
import { clipToOutline } from '@glomseg/shared/clip-to-outline.js';
import { DICE_TILE } from '@glomseg/shared/constants.js';
import { objectMatchOf } from '@glomseg/shared/dice.js';
import type { Polygon, Rect } from '@glomseg/shared/geometry.js';
import type { GlomsegService, ScoreResult, TruthScorer } from '@glomseg/shared/glomseg-service.js';
import { GlomsegError } from '@glomseg/shared/errors.js';

/** A model as its own file, without variants: the id to score it by, and its release when scoring ends. */
export interface BaseFileModels {
  baseFile(modelId: string): { id: string; release(): Promise<void> };
}

export interface HeldOutScorerParts {
  service: Pick<GlomsegService, 'scoreSlide'>;
  /** Dice and matching off the serving thread (the scoring pool). */
  scoring: TruthScorer;
  budget: AnnotationBudget;
  models: BaseFileModels;
}

interface RegionScore {
  predicted: number;
  dice: number;
  tp: number;
  fp: number;
  fn: number;
}

export class ServiceHeldOutScorer implements HeldOutScorer {
  constructor(private readonly parts: HeldOutScorerParts) {}

  async score(
    modelId: string,
    regions: readonly ReviewedRegion[],
    signal: AbortSignal,
    mppOverride?: number,
  ): Promise<HeldOutFigures> {
    const model = this.parts.models.baseFile(modelId);
    const scores: RegionScore[] = [];
    try {
      for (const region of regions) scores.push(await this.scoreRegion(model.id, region, signal, mppOverride));
    } finally {
      await model.release();
    }
    const sum = (pick: (s: RegionScore) => number) => scores.reduce((total, s) => total + pick(s), 0);
    const match = objectMatchOf(
      sum((s) => s.tp),
      sum((s) => s.fp),
      sum((s) => s.fn),
    );
    return {
      regions: regions.length,
      glomeruli: regions.reduce((n, r) => n + r.glomeruli.length, 0),
      predicted: sum((s) => s.predicted),
      meanImageDice: regions.length > 0 ? sum((s) => s.dice) / regions.length : 0,
      precision: match.precision,
      recall: match.recall,
      f1: match.f1,
      truePositives: match.truePositives,
      falsePositives: match.falsePositives,
      falseNegatives: match.falseNegatives,
    };
  }

  private async scoreRegion(
    modelId: string,
    region: ReviewedRegion,
    signal: AbortSignal,
    mppOverride?: number,
  ): Promise<RegionScore> {
    const box = integerBox(outlineBounds(region.outline));
    const params = checkScoreSlide({ slideId: region.slideId, modelId, region: box, mppOverride });
    let result: ScoreResult | undefined;
    for await (const event of this.parts.service.scoreSlide(params, signal))
      if (event.kind === 'result') result = event.result;
    if (!result) throw new GlomsegError('INTERNAL', `scoring held-out region ${region.id} gave no result`);
    const predicted = clipToOutline(result.polygons, region.outline);
    const truth = clipToOutline(region.glomeruli, region.outline);
    // No truth: a region reviewed as holding no glomerulus; every prediction in it is a false one.
    if (truth.length === 0)
      return { predicted: predicted.length, dice: predicted.length === 0 ? 1 : 0, tp: 0, fp: predicted.length, fn: 0 };
    const input = {
      content: geojsonOf(truth),
      format: 'geojson' as const,
      name: `${region.id}.geojson`,
      classes: ['*'],
      width: box.x + box.width,
      height: box.y + box.height,
      budget: this.parts.budget,
    };
    const m = await this.parts.scoring.scoreDice(input, predicted, box, DICE_TILE, signal);
    return {
      predicted: predicted.length,
      dice: m.globalDice,
      tp: m.truePositives,
      fp: m.falsePositives,
      fn: m.falseNegatives,
    };
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
