/**
 * A person's corrections of the predictions on one slide, as pure edits on an immutable state: predicted glomeruli
 * accepted, deleted (false) or reshaped, missed ones drawn, and regions marked as reviewed. Rings are level-0 slide
 * pixels, not closed. The saved form is the annotation store's regions (shared/reviewed-annotations.ts).
 */
import { pointInRing, type Ring } from '@glomseg/shared/geometry.js';
import type { AnnotatedRegion, GlomerulusSource, ReviewedGlomerulus } from '@glomseg/shared/reviewed-annotations.js';

export type CorrectionKind = 'accepted' | 'deleted' | 'edited' | 'drawn' | 'region';

export interface Correction {
  /** Unique in its state, e.g. 'c7'. */
  id: string;
  kind: CorrectionKind;
  ring: Ring;
  /** The predicted glomerulus it judges, when it judges one. */
  predictionId?: string;
}

export interface CorrectionsState {
  readonly items: readonly Correction[];
  readonly nextId: number;
}

export interface CorrectionCounts {
  accepted: number;
  deleted: number;
  edited: number;
  drawn: number;
  /** Deleted, edited and drawn: where the model was wrong. */
  corrected: number;
  /** Regions marked as reviewed. */
  regions: number;
}

/** What a delete acts on: a prediction not judged yet, or a correction. */
export type DeleteTarget = { predictionId: string; ring: Ring } | { itemId: string };

export const EMPTY_CORRECTIONS: CorrectionsState = { items: [], nextId: 1 };

function add(state: CorrectionsState, item: Omit<Correction, 'id'>): CorrectionsState {
  const kept = item.predictionId
    ? state.items.filter((other) => other.predictionId !== item.predictionId)
    : state.items;
  return { items: [...kept, { ...item, id: `c${state.nextId}` }], nextId: state.nextId + 1 };
}

function replace(state: CorrectionsState, id: string, change: (item: Correction) => Correction | undefined) {
  const items = state.items.flatMap((item) => (item.id === id ? (change(item) ?? []) : [item]));
  return { ...state, items };
}

/** The prediction is a glomerulus as drawn (replaces an earlier judgement of it). */
export function acceptPrediction(state: CorrectionsState, predictionId: string, ring: Ring): CorrectionsState {
  return add(state, { kind: 'accepted', ring, predictionId });
}

/** The prediction is a glomerulus, with this outline instead. */
export function reshapePrediction(state: CorrectionsState, predictionId: string, ring: Ring): CorrectionsState {
  return add(state, { kind: 'edited', ring, predictionId });
}

/** A glomerulus the model missed. */
export function drawGlomerulus(state: CorrectionsState, ring: Ring): CorrectionsState {
  return add(state, { kind: 'drawn', ring });
}

/** An area reviewed whole: every glomerulus in it is among the corrections, the rest is no glomerulus. */
export function markRegion(state: CorrectionsState, ring: Ring): CorrectionsState {
  return add(state, { kind: 'region', ring });
}

/** A correction's new outline: an accepted prediction becomes edited. */
export function reshape(state: CorrectionsState, itemId: string, ring: Ring): CorrectionsState {
  return replace(state, itemId, (item) => ({ ...item, ring, kind: item.kind === 'accepted' ? 'edited' : item.kind }));
}

/**
 * Delete: a prediction is marked false; an accepted or edited one becomes false; a false mark, a drawn glomerulus or
 * a region goes away.
 */
export function deleteTarget(state: CorrectionsState, target: DeleteTarget): CorrectionsState {
  if ('predictionId' in target)
    return add(state, { kind: 'deleted', ring: target.ring, predictionId: target.predictionId });
  return replace(state, target.itemId, (item) =>
    item.predictionId && item.kind !== 'deleted' ? { ...item, kind: 'deleted' } : undefined,
  );
}

export function correctionCounts(state: CorrectionsState): CorrectionCounts {
  const count = (kind: CorrectionKind) => state.items.filter((item) => item.kind === kind).length;
  const [accepted, deleted, edited, drawn, regions] = (
    ['accepted', 'deleted', 'edited', 'drawn', 'region'] as const
  ).map(count);
  return { accepted, deleted, edited, drawn, corrected: deleted + edited + drawn, regions };
}

const SOURCE_OF: Partial<Record<CorrectionKind, GlomerulusSource>> = {
  accepted: 'predicted',
  edited: 'edited',
  drawn: 'drawn',
};

/** Saved region ids say what the region is: reviewed by hand, one glomerulus's outline, or one false prediction. */
const ID_PREFIX = { region: 'region', glomerulus: 'glomerulus', deleted: 'false' } as const;

function centroid(ring: Ring): [number, number] {
  const sum = ring.reduce(([sx, sy], [x, y]) => [sx + x, sy + y], [0, 0]);
  return [sum[0] / ring.length, sum[1] / ring.length];
}

const glomerulusOf = (item: Correction): ReviewedGlomerulus => ({
  exterior: item.ring,
  holes: [],
  source: SOURCE_OF[item.kind]!,
});

/**
 * The annotation store's form: each reviewed region with the glomeruli whose centre lies in it; a glomerulus
 * outside every region is saved as a region of its own outline (that area is known: glomerulus), a false prediction
 * as an empty region of its outline (that area is known: no glomerulus). Unmarked areas stay unsaved.
 */
export function toSavedRegions(state: CorrectionsState): AnnotatedRegion[] {
  const reviewed = state.items.filter((item) => item.kind === 'region');
  const regions: AnnotatedRegion[] = reviewed.map((item) => ({
    id: `${ID_PREFIX.region}-${item.id.slice(1)}`,
    outline: item.ring,
    glomeruli: [],
  }));
  for (const item of state.items) {
    if (item.kind === 'region') continue;
    const id = item.id.slice(1);
    if (item.kind === 'deleted') {
      regions.push({ id: `${ID_PREFIX.deleted}-${id}`, outline: item.ring, glomeruli: [] });
      continue;
    }
    const home = reviewed.findIndex((region) => pointInRing(...centroid(item.ring), region.ring));
    if (home >= 0) regions[home].glomeruli.push(glomerulusOf(item));
    else regions.push({ id: `${ID_PREFIX.glomerulus}-${id}`, outline: item.ring, glomeruli: [glomerulusOf(item)] });
  }
  return regions;
}

const KIND_OF: Record<GlomerulusSource, CorrectionKind> = {
  predicted: 'accepted',
  edited: 'edited',
  drawn: 'drawn',
  imported: 'drawn',
};

/** A saved version as corrections again (their predictions' ids are not kept: they belong to one session). */
export function fromSavedRegions(regions: readonly AnnotatedRegion[]): CorrectionsState {
  let state = EMPTY_CORRECTIONS;
  const push = (kind: CorrectionKind, ring: Ring) => (state = add(state, { kind, ring }));
  for (const region of regions) {
    if (region.id.startsWith(`${ID_PREFIX.deleted}-`) && region.glomeruli.length === 0) push('deleted', region.outline);
    else if (!region.id.startsWith(`${ID_PREFIX.glomerulus}-`)) push('region', region.outline);
    for (const glomerulus of region.glomeruli) push(KIND_OF[glomerulus.source], glomerulus.exterior);
  }
  return state;
}
