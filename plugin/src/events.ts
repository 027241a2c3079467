/** Typed events of the glomseg elements. All bubble and cross shadow roots (composed), so a portal can listen anywhere. */
import type { TileOutcome } from '@glomseg/shared/glomseg-service.js';
import type { LiveDiceMetrics } from './dice/live-dice-scorer.js';
import type { AnnotationVersionInfo } from '@glomseg/shared/reviewed-annotations.js';
import type { CorrectionCounts } from './editing/corrections.js';
import type { EditMode } from './editing/edit-interactions.js';

/** A tile's result as the server sent it; `polygons` are the raw pieces, before joining across tile borders. */
export type TileEventDetail = Pick<TileOutcome, 'tile' | 'bounds' | 'polygons' | 'cached'>;

export interface ProgressEventDetail {
  /** Tiles of the current view received so far, and tiles the view covers. */
  received: number;
  total: number;
  /** True while a stream is open. */
  streaming: boolean;
  /** True when the view covers more tiles than the overlay asks for at once (zoom in for the rest). */
  limited: boolean;
  /** Glomeruli drawn so far (pieces joined across tiles). */
  polygons: number;
}

export type DiceEventDetail = LiveDiceMetrics;

export interface ErrorEventDetail {
  /** glomseg / gRPC status name, e.g. UNAVAILABLE, NOT_FOUND, INVALID_ARGUMENT. */
  code: string;
  message: string;
}

/** A token entered in <glomseg-sign-in>. */
export interface SignInEventDetail {
  token: string;
}

/** What the user changed or asked for in <glomseg-panel>. */
export type PanelInput =
  | { name: 'threshold' | 'opacity'; value: number }
  /** Slide pixel size in um/px; 0: the slide's own (the file's, else estimated or the model's). */
  | { name: 'mpp'; value: number }
  | { name: 'visible' | 'annotationsVisible'; value: boolean }
  | { name: 'loadFile'; value: File }
  | { name: 'clearAnnotations' | 'export' };

/** What the user turned on or off, or asked for, in <glomseg-map-tools> (or by its keyboard shortcut). */
export type MapToolInput =
  | { name: 'outline' | 'heatmap' | 'ruler' | 'help'; value: boolean }
  | { name: 'heatmapOpacity'; value: number }
  | { name: 'snapshot' | 'clearMeasurements' };

/** A line measured with the ruler: its length in level-0 pixels, and in µm where the pixel size is known. */
export interface MeasureEventDetail {
  lengthPx: number;
  lengthUm?: number;
  /** As shown on the map, e.g. '212 µm'. */
  text: string;
}

/** A glomerulus chosen in <glomseg-glomerulus-table> (clicked, or Enter on its row). */
export interface GlomerulusSelectEventDetail {
  id: string;
  /** Its bounding box in map coordinates [minX, minY, maxX, maxY]. */
  extent: number[];
}

/** The corrections on the overlay changed (an edit, undo, redo, a load) or the editing tool did. */
export interface CorrectionsEventDetail {
  counts: CorrectionCounts;
  mode: EditMode;
  canUndo: boolean;
  canRedo: boolean;
  /** The saved version the corrections started from; 0: none. */
  baseVersion: number;
  /** Changed since they were last saved or loaded. */
  unsaved: boolean;
}

/** A version of the corrections saved to, or loaded from, the server's annotation store. */
export type AnnotationsVersionEventDetail = AnnotationVersionInfo;

export type GlomsegTileEvent = CustomEvent<TileEventDetail>;
export type GlomsegProgressEvent = CustomEvent<ProgressEventDetail>;
export type GlomsegDiceEvent = CustomEvent<DiceEventDetail>;
export type GlomsegErrorEvent = CustomEvent<ErrorEventDetail>;
export type GlomsegPanelInputEvent = CustomEvent<PanelInput>;
export type GlomsegSignInEvent = CustomEvent<SignInEventDetail>;
export type GlomsegMapToolEvent = CustomEvent<MapToolInput>;
export type GlomsegMeasureEvent = CustomEvent<MeasureEventDetail>;
export type GlomsegGlomerulusSelectEvent = CustomEvent<GlomerulusSelectEventDetail>;

export type GlomsegCorrectionsEvent = CustomEvent<CorrectionsEventDetail>;
export type GlomsegAnnotationsVersionEvent = CustomEvent<AnnotationsVersionEventDetail>;

export interface GlomsegEventMap {
  'glomseg-corrections': GlomsegCorrectionsEvent;
  'glomseg-annotations-saved': GlomsegAnnotationsVersionEvent;
  'glomseg-annotations-loaded': GlomsegAnnotationsVersionEvent;
  'glomseg-tile': GlomsegTileEvent;
  'glomseg-progress': GlomsegProgressEvent;
  'glomseg-dice': GlomsegDiceEvent;
  'glomseg-error': GlomsegErrorEvent;
  'glomseg-panel-input': GlomsegPanelInputEvent;
  'glomseg-sign-in': GlomsegSignInEvent;
  'glomseg-map-tool': GlomsegMapToolEvent;
  'glomseg-measure': GlomsegMeasureEvent;
  'glomseg-glomerulus-select': GlomsegGlomerulusSelectEvent;
}

export function glomsegEvent<K extends keyof GlomsegEventMap>(
  type: K,
  detail: GlomsegEventMap[K]['detail'],
): GlomsegEventMap[K] {
  return new CustomEvent(type, { detail, bubbles: true, composed: true }) as GlomsegEventMap[K];
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface HTMLElementEventMap extends GlomsegEventMap {}
}
