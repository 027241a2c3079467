/** A batch folder's per-slide records: what the manifest and the export writers (exports/) read. */
import type { DiceMetrics } from '@glomseg/shared/dice.js';

export type SlideStatus = 'pending' | 'done' | 'failed';

export interface ManifestEntry {
  name: string;
  status: SlideStatus;
  /** Tries at scoring the slide over every run of the batch: each is counted as it starts (retries, and a try cut off by a killed run, included). */
  attempts: number;
  error?: string;
}

/** One finished slide, as `<name>.result.json` holds it. */
export interface SlideResult {
  slide: string;
  name: string;
  slideId: string;
  width: number;
  height: number;
  glomeruli: number;
  metrics?: DiceMetrics;
  elapsedMs: number;
  /** HuBMAP RLE of the whole slide's mask (the submission.csv row). */
  rle: string;
  /** The pixel size it was read at, where that came from, and what it means when estimated. */
  scale?: { mpp: number; source: string; confidence?: number; note?: string };
  /** Tissue the server measured in what it scored, level-0 square pixels: what glomeruli per mm² count over. */
  tissueArea?: number;
}
