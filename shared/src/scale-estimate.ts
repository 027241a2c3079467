/**
 * Pixel size from the image itself, for slides whose file does not record it. The model is run on a few tissue
 * tiles at each candidate pixel size; at the right one, glomeruli look as they did in training and the model finds
 * them often and surely. Here: the candidates, how their trial results are weighed, and the words that tell a
 * person what scale was used and what to do. The trial runs themselves (I/O, inference) live in the server.
 */
import type { TileGrid } from './tile-grid.js';

/** Level-0 um/px tried, covering 5x to 40x scans. */
export const CANDIDATE_MPPS: readonly number[] = [0.25, 0.5, 1, 2, 4];

/** Tissue tiles the model is run on per candidate. */
export const TRIAL_TILES = 8;

/** Below this many sure, whole glomeruli per trial tile at the best candidate, the image gives no usable estimate. */
const MIN_DENSITY = 0.25;

/**
 * A glomerulus 100 um across, in um^2 (adult human tufts are 100 to 200 um across). At a wrong scale the model finds
 * fragments: the same count of objects, but far smaller than a glomerulus once measured at that scale.
 */
export const GLOMERULUS_AREA_UM2 = Math.PI * 50 * 50;

export interface ScaleTrial {
  mpp: number;
  tiles: number;
  /** Over the glomeruli found on the trial tiles: mean probability x how whole it is (its area over a glomerulus's, at most 1), summed. */
  sureness: number;
}

/** One found object's part in a trial's sureness: `areaUm2` measured at the candidate pixel size. */
export function objectSureness(meanProbability: number, areaUm2: number): number {
  return meanProbability * Math.min(1, areaUm2 / GLOMERULUS_AREA_UM2);
}

export interface ScaleEstimate {
  /** Estimated level-0 um/px; 0 when the image gave no usable estimate. */
  mpp: number;
  /** 0 to 1: how far the best candidate stands above the runner-up. */
  confidence: number;
  trials: ScaleTrial[];
}

function density(trial: ScaleTrial): number {
  return trial.tiles > 0 ? trial.sureness / trial.tiles : 0;
}

/** The candidate where the model finds the most sure glomeruli per tile, and how clearly it wins. */
export function pickScale(trials: ScaleTrial[]): ScaleEstimate {
  const ranked = [...trials].sort((a, b) => density(b) - density(a));
  const best = ranked[0];
  if (!best || density(best) < MIN_DENSITY) return { mpp: 0, confidence: 0, trials };
  const runnerUp = ranked[1] ? density(ranked[1]) : 0;
  return { mpp: best.mpp, confidence: 1 - runnerUp / density(best), trials };
}

/**
 * What a pathologist needs to know about the scale a grid uses, in plain words with what to do; '' when the file
 * or the request stated the pixel size.
 */
export function scaleNote(grid: Pick<TileGrid, 'mppSource' | 'mppAssumed' | 'mppConfidence'>): string {
  const fix =
    "If you know the scanner's pixel size, give it (the viewer's Pixel size box, or glomseg score --mpp UM) for results you can trust.";
  if (grid.mppSource === 'estimated') {
    const confidence = Math.round((grid.mppConfidence ?? 0) * 100);
    return `The slide file does not record its pixel size. glomseg estimated ${grid.mppAssumed.toFixed(2)} µm/px from the image (confidence ${confidence}%). ${fix}`;
  }
  if (grid.mppSource === 'model-default') {
    return `The slide file does not record its pixel size, and the image gave no usable estimate: results assume ${grid.mppAssumed.toFixed(2)} µm/px (the model's training scans) and may miss every glomerulus if that is wrong. ${fix}`;
  }
  return '';
}

/** Tissue (mm^2) predicted without one glomerulus found, beyond which an assumed or estimated scale is likely wrong. */
export const EMPTY_TISSUE_MM2 = 0.25;

/**
 * How loudly to give a grid's scale note: '' none (the file or the request stated the pixel size); 'quiet' (one line,
 * details folded) where the assumed scale is probably right; 'prominent' where it is likely wrong: a low-confidence
 * estimate, or no glomerulus at all in the tissue predicted so far (at a wrong scale the model finds nothing).
 */
export function scaleNoteLevel(
  grid: Pick<TileGrid, 'mppSource' | 'mppConfidence'>,
  found: { glomeruli: number; tissueMm2: number },
): '' | 'quiet' | 'prominent' {
  if (grid.mppSource !== 'estimated' && grid.mppSource !== 'model-default') return '';
  if (grid.mppSource === 'estimated' && (grid.mppConfidence ?? 0) < 0.5) return 'prominent';
  return found.glomeruli === 0 && found.tissueMm2 >= EMPTY_TISSUE_MM2 ? 'prominent' : 'quiet';
}
