/**
 * The AdaptModel use case: a chosen model fine-tuned on the reviewed regions of chosen slides. Part of the regions
 * is held out; the product's scorer judges the model on them before and after, and a version that got worse is
 * never registered. One adaptation at a time on a server: a second is refused (RESOURCE_EXHAUSTED), not queued,
 * because one takes minutes of every core and its caller may as well retry when it ends.
 */
import {
  splitHeldOut,
  outlineBounds,
  type AdaptEvent,
  type AdaptModelParams,
  type AdaptPhase,
  type AdaptationFigures,
  type HeldOutFigures,
  type HeldOutScorer,
  type ModelTrainer,
  type ModelVersions,
  type ReviewedRegion,
  type ReviewedRegionSource,
  type TrainedCandidate,
} from '@glomseg/shared/adaptation.js';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { Checked } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { plural } from '@glomseg/shared/plural.js';

/** Bounds on what one adaptation may take, checked before any pixel is read (level-0 pixels: any slide scale). */
export interface AdaptLimits {
  maxRegions: number;
  maxVertices: number;
  maxRegionEdgeLevel0: number;
  maxTotalAreaLevel0: number;
  /** Training time budget when the request gives none, and the most it may ask for. */
  defaultMinutes: number;
  maxMinutes: number;
  maxSteps: number;
}

export const DEFAULT_ADAPT_LIMITS: AdaptLimits = {
  maxRegions: 1000,
  maxVertices: 500_000,
  maxRegionEdgeLevel0: 16_384,
  maxTotalAreaLevel0: 2 ** 32,
  defaultMinutes: 12,
  maxMinutes: 60,
  maxSteps: 20_000,
};

export const DEFAULT_HELD_OUT_FRACTION = 0.2;

export interface AdaptParts {
  regions: ReviewedRegionSource;
  trainer: ModelTrainer;
  scorer: HeldOutScorer;
  versions: ModelVersions;
  limits: AdaptLimits;
  slot: AdaptSlot;
}

/** The one adaptation a server runs at a time. */
export class AdaptSlot {
  #running: { modelId: string; since: number } | undefined;

  take(modelId: string): () => void {
    if (this.#running) {
      const minutes = Math.max(1, Math.round((Date.now() - this.#running.since) / 60_000));
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `an adaptation of '${this.#running.modelId}' is already running (for about ${plural(minutes, 'minute')}); ` +
          'one runs at a time: try again when it ends',
      );
    }
    const running = { modelId, since: Date.now() };
    this.#running = running;
    return () => {
      if (this.#running === running) this.#running = undefined;
    };
  }

  get busy(): boolean {
    return this.#running !== undefined;
  }
}

export async function* adaptModel(
  parts: AdaptParts,
  params: Checked<AdaptModelParams>,
  signal: AbortSignal,
): AsyncGenerator<AdaptEvent> {
  const parent = params.modelId ? parts.versions.get(params.modelId) : parts.versions.defaultModel();
  const maxMinutes = minutesOf(parts, params);
  const release = parts.slot.take(parent.id);
  let candidate: TrainedCandidate | undefined;
  let published = false;
  try {
    await parts.trainer.check(signal);
    yield progress('reading-regions', 0, params.slideIds.length);
    const regions = await readRegions(parts, params.slideIds, signal);
    const { train, heldOut } = splitHeldOut(regions, params.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION);
    yield progress('scoring-before', 0, heldOut.length);
    const before = await parts.scorer.score(parent.id, heldOut, signal, params.mppOverride);
    const version = parts.versions.nextVersion(parent);
    const request = {
      parent,
      version,
      regions: train,
      maxSteps: params.maxSteps,
      maxMinutes,
      mppOverride: params.mppOverride,
    };
    for await (const event of parts.trainer.train(request, signal)) {
      if (event.kind === 'done') candidate = event.candidate;
      else yield { kind: 'progress', progress: { ...event } };
    }
    if (!candidate) throw new GlomsegError('INTERNAL', 'the trainer ended without a model');
    throwIfAborted(signal);
    const figures = figuresOf(parent, version, train, heldOut, candidate, before);
    await parts.versions.stage(candidate, figures);
    yield progress('scoring-after', 0, heldOut.length);
    const after = await parts.scorer.score(candidate.id, heldOut, signal, params.mppOverride);
    refuseIfWorse(before, after);
    throwIfAborted(signal);
    yield progress('registering', 0, 1);
    let model = await parts.versions.publish(candidate, { ...figures, heldOutAfter: after });
    published = true;
    if (params.makeDefault) model = await parts.versions.setDefault(model.id);
    yield {
      kind: 'result',
      result: {
        model,
        parentId: parent.id,
        before,
        after,
        steps: candidate.steps,
        trainingSeconds: candidate.seconds,
        trainedRegions: train.length,
        heldOutRegions: heldOut.length,
        isDefault: params.makeDefault === true,
      },
    };
  } finally {
    if (candidate && !published) await parts.versions.discard(candidate).catch(() => undefined);
    release();
  }
}

function progress(phase: AdaptPhase, step: number, steps: number): AdaptEvent {
  return { kind: 'progress', progress: { phase, step, steps } };
}

/** The training budget: the request's, within the server's bound (refused above it, not cut silently). */
function minutesOf(parts: AdaptParts, params: AdaptModelParams): number {
  const { maxMinutes, defaultMinutes } = parts.limits;
  if (params.maxMinutes !== undefined && params.maxMinutes > maxMinutes)
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `max_minutes ${params.maxMinutes} is more than this server allows (${maxMinutes}; serve --adapt-max-minutes)`,
    );
  return Math.min(params.maxMinutes ?? defaultMinutes, maxMinutes);
}

/** The regions of every slide, bounded before any pixel is read; at least two (one is held out to judge). */
async function readRegions(parts: AdaptParts, slideIds: string[], signal: AbortSignal): Promise<ReviewedRegion[]> {
  const { limits } = parts;
  const regions: ReviewedRegion[] = [];
  for (const slideId of slideIds) regions.push(...(await parts.regions.reviewedRegions(slideId, signal)));
  if (regions.length < 2)
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `the slides have ${plural(regions.length, 'reviewed region')}; adapting needs at least 2 (one is held out ` +
        'to judge the new version): mark more regions as reviewed in the viewer and save them',
    );
  if (regions.length > limits.maxRegions)
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `${regions.length} reviewed regions; one adaptation takes at most ${limits.maxRegions}`,
    );
  let vertices = 0;
  let area = 0;
  for (const region of regions) {
    const box = outlineBounds(region.outline);
    if (Math.max(box.width, box.height) > limits.maxRegionEdgeLevel0)
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `reviewed region ${region.id} is ${Math.round(box.width)} x ${Math.round(box.height)} px; ` +
          `each edge may be at most ${limits.maxRegionEdgeLevel0} level-0 px: review smaller regions`,
      );
    area += box.width * box.height;
    vertices += region.outline.exterior.length;
    for (const g of region.glomeruli) vertices += g.exterior.length + g.holes.reduce((n, h) => n + h.length, 0);
  }
  if (vertices > limits.maxVertices)
    throw new GlomsegError('RESOURCE_EXHAUSTED', `${vertices} vertices in all; at most ${limits.maxVertices}`);
  if (area > limits.maxTotalAreaLevel0)
    throw new GlomsegError(
      'RESOURCE_EXHAUSTED',
      `the reviewed regions cover ${area.toExponential(2)} level-0 px²; at most ${limits.maxTotalAreaLevel0.toExponential(2)}`,
    );
  return regions;
}

function figuresOf(
  parent: ModelCard,
  version: { family: string; version: number },
  train: ReviewedRegion[],
  heldOut: ReviewedRegion[],
  candidate: TrainedCandidate,
  before: HeldOutFigures,
): AdaptationFigures {
  const glomeruli = (rs: ReviewedRegion[]) => rs.reduce((n, r) => n + r.glomeruli.length, 0);
  return {
    parent: parent.id,
    family: version.family,
    version: version.version,
    slides: [...new Set([...train, ...heldOut].map((r) => r.slideId))].sort(),
    trainedRegions: train.length,
    trainedGlomeruli: glomeruli(train),
    heldOutRegions: heldOut.length,
    heldOutGlomeruli: glomeruli(heldOut),
    heldOutIds: heldOut.map((r) => r.id),
    steps: candidate.steps,
    trainingSeconds: candidate.seconds,
    heldOutBefore: before,
  };
}

/** Worse: a lower mean image Dice on the held-out regions, or a lower F1 (the two figures a lab reads). */
function refuseIfWorse(before: HeldOutFigures, after: HeldOutFigures): void {
  const diceDrop = after.meanImageDice < before.meanImageDice;
  const f1Drop = after.f1 < before.f1;
  if (!diceDrop && !f1Drop) return;
  const fmt = (f: HeldOutFigures) => `mean image Dice ${f.meanImageDice.toFixed(3)}, F1 ${f.f1.toFixed(3)}`;
  throw new GlomsegError(
    'FAILED_PRECONDITION',
    `the adapted model did worse on the ${plural(after.regions, 'held-out region')} than its parent ` +
      `(before: ${fmt(before)}; after: ${fmt(after)}), so it was not registered: review more regions, or ` +
      'correct the ones saved, and adapt again',
  );
}
