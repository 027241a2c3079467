/** What <glomseg-panel> shows: set by its owner (the overlay) as one object. */
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import type { ErrorEventDetail, ProgressEventDetail } from '../../events.js';
import type { LiveDiceMetrics } from '../../dice/live-dice-scorer.js';
import type { LoadedAnnotations } from '../../annotation-source.js';

export interface PanelState {
  progress: ProgressEventDetail;
  loading: boolean;
  error?: ErrorEventDetail;
  /** Whether a slide is set at all. */
  hasSlide: boolean;
  /** The threshold in use (the card's when none is set); undefined until the card is known. */
  threshold?: number;
  opacity: number;
  /** Pixel size given in the Pixel size box (um/px); 0: the slide's own. */
  mppOverride: number;
  visible: boolean;
  annotationsVisible: boolean;
  annotations?: LoadedAnnotations;
  dice?: LiveDiceMetrics;
  grid?: TileGrid;
  slideSize?: { width: number; height: number };
  /** Glomeruli drawn now, and the level-0 area (px^2) of the tiles predicted so far. */
  polygons: readonly GlomerulusPolygon[];
  areaPredicted: number;
  /** Of that, the tissue (px^2): the server's tissue share of each tile. */
  tissuePredicted: number;
}
