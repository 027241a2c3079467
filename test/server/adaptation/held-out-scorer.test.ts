/**
 * The held-out scorer with fake ports for prediction (ScoreSlide answers chosen polygons, and scores the box as the
 * real one does when given annotations) and the real scoring pool: a reviewed region that is not a rectangle is
 * scored inside its outline only, and every model is scored through the same base-file port (one precision).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewedRegion } from '@glomseg/shared/adaptation.js';
import { computeDiceMetrics } from '@glomseg/shared/dice.js';
import type { GlomerulusPolygon, Polygon, Ring } from '@glomseg/shared/geometry.js';
import type { Checked, ScoreEvent, ScoreSlideParams } from '@glomseg/shared/glomseg-service.js';
import { readGroundTruth } from '@glomseg/shared/ground-truth.js';
import { ServiceHeldOutScorer, type BaseFileModels } from '../../../server/src/adaptation/held-out-scorer.js';
import { ScoringPool } from '../../../server/src/scoring/scoring-pool.js';
import { DEFAULT_LIMITS } from '../../../server/src/validation/limits.js';

const SIGNAL = new AbortController().signal;

const square = (x: number, y: number, size: number): Ring => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];
const polygon = (exterior: Ring): Polygon => ({ exterior, holes: [] });
const predicted = (exterior: Ring): GlomerulusPolygon => ({
  exterior,
  holes: [],
  area: 1,
  meanProbability: 0.9,
  touches: [],
});

/** A right triangle over the box (0, 0)-(200, 200): its lower right half was never reviewed. */
const TRIANGLE: Ring = [
  [0, 0],
  [200, 0],
  [0, 200],
];
const GLOMERULUS = square(20, 20, 40);
/** Inside the triangle's box, outside the triangle. */
const OUTSIDE = square(150, 150, 40);

function region(glomeruli: Ring[], outline: Ring = TRIANGLE): ReviewedRegion {
  return { id: 'slide.tif#r1', slideId: 'slide.tif', outline: polygon(outline), glomeruli: glomeruli.map(polygon) };
}

/** ScoreSlide over a box: the chosen predictions, and (given annotations) the box's metrics, as the service scores. */
function fakeService(predictions: Record<string, GlomerulusPolygon[]>) {
  const asked: string[] = [];
  return {
    asked,
    async *scoreSlide(params: Checked<ScoreSlideParams>): AsyncIterable<ScoreEvent> {
      const modelId = params.modelId!;
      asked.push(modelId);
      const polygons = predictions[modelId] ?? [];
      const region = params.region!;
      const truth = params.annotations
        ? readGroundTruth(params.annotations.content, { format: 'geojson', width: 1000, height: 1000 }).polygons
        : undefined;
      const metrics = truth && computeDiceMetrics(polygons, truth, region);
      yield { kind: 'result', result: { slideId: params.slideId, modelId, region, polygons, metrics } as never };
    },
  };
}

/** The port as the registry gives it: a model with variants scored as `<id>~base`, released after. */
function fakeBaseFiles(withVariants: string[]) {
  const released: string[] = [];
  const models: BaseFileModels = {
    baseFile: (modelId) => {
      const id = withVariants.includes(modelId) ? `${modelId}~base` : modelId;
      return { id, release: async () => void released.push(id) };
    },
  };
  return { models, released };
}

let scoring: ScoringPool;
beforeAll(async () => {
  scoring = await ScoringPool.create({ maxTaskMs: 30_000 });
});
afterAll(async () => {
  await scoring?.close();
});

function scorerWith(predictions: Record<string, GlomerulusPolygon[]>, withVariants: string[] = []) {
  const service = fakeService(predictions);
  const base = fakeBaseFiles(withVariants);
  const scorer = new ServiceHeldOutScorer({ service, scoring, budget: DEFAULT_LIMITS, models: base.models });
  return { scorer, service, released: base.released };
}

describe('held-out scoring inside a reviewed outline', () => {
  it('a prediction outside a triangular region but inside its box lowers neither Dice nor F1', async () => {
    const exact = await scorerWith({ m: [predicted(GLOMERULUS)] }).scorer.score('m', [region([GLOMERULUS])], SIGNAL);
    expect([exact.meanImageDice, exact.f1, exact.falsePositives]).toEqual([1, 1, 0]);
    const { scorer } = scorerWith({ m: [predicted(GLOMERULUS), predicted(OUTSIDE)] });
    const outside = await scorer.score('m', [region([GLOMERULUS])], SIGNAL);
    expect(outside).toEqual(exact);
  });

  it('a region reviewed as empty stays perfect with a prediction only outside it, and not with one inside', async () => {
    const outsideOnly = await scorerWith({ m: [predicted(OUTSIDE)] }).scorer.score('m', [region([])], SIGNAL);
    expect([outsideOnly.meanImageDice, outsideOnly.falsePositives, outsideOnly.predicted]).toEqual([1, 0, 0]);
    const inside = await scorerWith({ m: [predicted(GLOMERULUS)] }).scorer.score('m', [region([])], SIGNAL);
    expect([inside.meanImageDice, inside.falsePositives, inside.f1]).toEqual([0, 1, 0]);
  });

  it('predictions and truth crossing the outline are compared on their parts inside it', async () => {
    // A glomerulus across the hypotenuse, found as a box twice its size reaching out of the triangle: inside the
    // outline both are the same triangle-cut shape but for the prediction's part outside, which does not count.
    const across = square(80, 80, 60);
    const bigger: Ring = [
      [80, 80],
      [200, 80],
      [200, 200],
      [80, 200],
    ];
    const { scorer } = scorerWith({ m: [predicted(bigger)] });
    const figures = await scorer.score('m', [region([across])], SIGNAL);
    expect([figures.meanImageDice, figures.f1]).toEqual([1, 1]);
  });

  it('scores the parent and its candidate alike: each through its base file, released after', async () => {
    const { scorer, service, released } = scorerWith(
      { 'parent~base': [predicted(GLOMERULUS)], candidate: [predicted(GLOMERULUS)] },
      ['parent'],
    );
    const regions = [region([GLOMERULUS])];
    const before = await scorer.score('parent', regions, SIGNAL);
    const after = await scorer.score('candidate', regions, SIGNAL);
    expect(service.asked).toEqual(['parent~base', 'candidate']);
    expect(released).toEqual(['parent~base', 'candidate']);
    expect(after).toEqual(before);
  });
});
