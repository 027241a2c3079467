/**
 * Adapting a model to a lab (AdaptModel): the use case's parameters and events, and the ports it depends on
 * (reviewed regions from the annotation store, the trainer, the held-out scorer, the model versions). Pure: no I/O.
 */
import type { Polygon, Rect } from './geometry.js';
import type { ObjectMatch } from './dice.js';
import type { Checked } from './glomseg-service.js';
import type { ModelCard } from './model-card.js';

/** A reviewed area of a slide with the glomeruli in it; everything else inside it is "no glomerulus". */
export interface ReviewedRegion {
  /** Unique and stable (the held-out split hashes it). */
  id: string;
  slideId: string;
  /** The reviewed area's outline, level-0 pixels. */
  outline: Polygon;
  glomeruli: Polygon[];
}

export interface AdaptModelParams {
  /** Unset: the default model. */
  modelId?: string;
  slideIds: string[];
  /** Unset: the trainer's default. */
  maxSteps?: number;
  /** Training time budget; unset: the server's. */
  maxMinutes?: number;
  /** Share of the regions held out to judge the new version (0.05 to 0.5); unset: 0.2. */
  heldOutFraction?: number;
  /** Make the new version the default once registered. */
  makeDefault?: boolean;
  /** The slides' level-0 um/px, for files that record none; unset: the file's, else estimated (as ScoreSlide). */
  mppOverride?: number;
}

/** The product's scorer on held-out regions: mean image Dice (1 where neither side has a glomerulus), objects pooled. */
export interface HeldOutFigures extends Omit<ObjectMatch, 'truthCount'> {
  regions: number;
  glomeruli: number;
  predicted: number;
  meanImageDice: number;
}

export type AdaptPhase =
  'reading-regions' | 'scoring-before' | 'cropping' | 'training' | 'scoring-after' | 'registering';

export interface AdaptProgress {
  phase: AdaptPhase;
  step: number;
  steps: number;
  loss?: number;
  etaSeconds?: number;
  message?: string;
}

export interface AdaptResult {
  model: ModelCard;
  parentId: string;
  before: HeldOutFigures;
  after: HeldOutFigures;
  steps: number;
  trainingSeconds: number;
  trainedRegions: number;
  heldOutRegions: number;
  isDefault: boolean;
}

export type AdaptEvent = { kind: 'progress'; progress: AdaptProgress } | { kind: 'result'; result: AdaptResult };

export interface SetDefaultModelParams {
  modelId: string;
}

/** Who may adapt: nobody ('off'), callers with a token ('token': refused on a server without tokens), anyone ('open'). */
export type AdaptAccess = 'off' | 'token' | 'open';

/** What AdaptModel and SetDefaultModel call, with checked parameters. */
export interface ModelAdaptationService {
  adapt(params: Checked<AdaptModelParams>, signal: AbortSignal): AsyncIterable<AdaptEvent>;
  /** Makes a listed model the default (a new version, or an older one: a rollback); says which it replaced. */
  setDefault(
    params: Checked<SetDefaultModelParams>,
    signal: AbortSignal,
  ): Promise<{ model: ModelCard; previousId: string }>;
}

// ---- Ports ----

/** The annotation store: a slide's reviewed regions with their glomeruli (latest saved version). */
export interface ReviewedRegionSource {
  reviewedRegions(slideId: string, signal: AbortSignal): Promise<ReviewedRegion[]>;
}

export interface TrainingRequest {
  parent: ModelCard;
  /** The new version's id and number in its family. */
  version: { id: string; family: string; version: number };
  regions: ReviewedRegion[];
  maxSteps?: number;
  maxMinutes: number;
  mppOverride?: number;
}

export type TrainerEvent =
  | {
      kind: 'progress';
      phase: 'cropping' | 'training';
      step: number;
      steps: number;
      loss?: number;
      etaSeconds?: number;
    }
  | { kind: 'done'; candidate: TrainedCandidate };

/** A trained version waiting to be judged: written, not yet visible. */
export interface TrainedCandidate {
  id: string;
  /** Where it was written (the versions port knows what to do with it). */
  folder: string;
  steps: number;
  seconds: number;
}

/** The trainer at the edge (PyTorch in a bounded child process). */
export interface ModelTrainer {
  /** Throws FAILED_PRECONDITION, saying what to install, where training cannot run. */
  check(signal: AbortSignal): Promise<void>;
  /** Crops, trains and writes a candidate; cancelled by the signal (the child is stopped, nothing kept). */
  train(request: TrainingRequest, signal: AbortSignal): AsyncIterable<TrainerEvent>;
}

export interface HeldOutScorer {
  score(
    modelId: string,
    regions: readonly ReviewedRegion[],
    signal: AbortSignal,
    mppOverride?: number,
  ): Promise<HeldOutFigures>;
}

/** What the card of a new version records of its making (card provenance.adaptation, with the trainer's own). */
export interface AdaptationFigures {
  parent: string;
  family: string;
  version: number;
  slides: string[];
  trainedRegions: number;
  trainedGlomeruli: number;
  heldOutRegions: number;
  heldOutGlomeruli: number;
  heldOutIds: string[];
  steps: number;
  trainingSeconds: number;
  heldOutBefore: HeldOutFigures;
  heldOutAfter?: HeldOutFigures;
}

/** The model registry's versions (at the edge: models/versions, the ONNX sessions). */
export interface ModelVersions {
  get(modelId: string): ModelCard;
  defaultModel(): ModelCard;
  /** The next version of a model's family: `<family>-v<n>`. */
  nextVersion(parent: ModelCard): { id: string; family: string; version: number };
  /** Makes a candidate callable by id (to be judged), its card recording `figures`; not listed. */
  stage(candidate: TrainedCandidate, figures: AdaptationFigures): Promise<void>;
  /** Lists it (one rename), with the after-figures in its card. */
  publish(candidate: TrainedCandidate, figures: AdaptationFigures): Promise<ModelCard>;
  discard(candidate: TrainedCandidate): Promise<void>;
  setDefault(modelId: string): Promise<ModelCard>;
}

/** The held-out regions: a deterministic share by a hash of their ids (at least one, never all). */
export function splitHeldOut<R extends { id: string }>(
  regions: readonly R[],
  fraction: number,
): { train: R[]; heldOut: R[] } {
  if (regions.length < 2) return { train: [...regions], heldOut: [] };
  const count = Math.min(regions.length - 1, Math.max(1, Math.round(fraction * regions.length)));
  const order = [...regions].sort((a, b) => fnv1a(a.id) - fnv1a(b.id) || (a.id < b.id ? -1 : 1));
  const held = new Set(order.slice(0, count).map((r) => r.id));
  return { train: regions.filter((r) => !held.has(r.id)), heldOut: regions.filter((r) => held.has(r.id)) };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** A level-0 bounding box of a polygon's outline. */
export function outlineBounds(outline: Polygon): Rect {
  const xs = outline.exterior.map((p) => p[0]);
  const ys = outline.exterior.map((p) => p[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}
