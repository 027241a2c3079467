/** One slide's outcome in `glomseg score`: what the table, the progress lines and the batch files are made from. */
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { scaleNote } from '@glomseg/shared/scale-estimate.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';

export interface SlideScore {
  slide: string;
  slideId: string;
  ok: boolean;
  error?: string;
  glomeruli?: number;
  metrics?: DiceMetrics;
  elapsedMs?: number;
  width?: number;
  height?: number;
  polygons?: GlomerulusPolygon[];
  /** Tries it took (retries after a server went away). */
  attempts?: number;
  /** The pixel size the slide was read at, where it came from, and (unless the file or --mpp gave it) what that means. */
  scale?: { mpp: number; source: string; confidence?: number; note?: string };
  /** What the server left out of, or repaired in, the ground truth. */
  warnings?: string[];
  /** The tissue the server measured in what it scored, level-0 square pixels (ScoreResult.tissueArea). */
  tissueArea?: number;
}

export function scaleOf(grid: TileGrid): SlideScore['scale'] {
  const note = scaleNote(grid);
  return {
    mpp: grid.mppAssumed,
    source: grid.mppSource,
    ...(grid.mppSource === 'estimated' ? { confidence: grid.mppConfidence ?? 0 } : {}),
    ...(note ? { note } : {}),
  };
}
