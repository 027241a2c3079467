import { html, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import type OlMap from 'ol/Map.js';
import type { Polygon } from '@glomseg/shared/geometry.js';
import type { AnnotationFormat, GeoJsonFeatureCollection } from '@glomseg/shared/annotations.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import type { GlomsegPanelInputEvent } from '../../events.js';
import type { RequestHeaders } from '../../glomseg-client.js';
import type { LiveDiceMetrics } from '../../dice/live-dice-scorer.js';
import type { LoadedAnnotations } from '../../annotation-source.js';
import type { PixelOrigin } from '../../slide-frame.js';
import type { PredictionSession } from '../../layers/prediction-layer.js';
import GlomsegPanel from '../panel/glomseg-panel.component.js';
import { overlayStyles } from './glomseg-overlay.styles.js';
import { panelStateOf } from './panel-state.js';
import { overlayControllers } from './overlay-controllers.js';
import { applyPanelInput, type PanelInputTarget } from './panel-input.js';
import { downloadGeoJson, predictionsGeoJson, type ExportObjectType } from './geojson-export.js';
import { DisplayController } from '../../controllers/display-controller.js';
import { editingController } from './overlay-editing.js';
import { editingStyles, editingTemplate } from './editing-template.js';
import { adaptTemplate } from './adapt-template.js';

/** Where annotations loaded through the API come from: their format (else guessed) and the name to show. */
type AnnotationLoadOptions = { format?: AnnotationFormat; name?: string };

/** Settings a new prediction session is keyed on; the threshold alone only cuts again. */
const SESSION_KEYS = [
  'map',
  'headers',
  'serverUrl',
  'slide',
  'model',
  'mppOverride',
  'pixelOrigin',
  'maxTiles',
] as const;

/**
 * Glomerulus predictions over a slide that an OpenLayers map already shows. Asks the glomseg server (gRPC-Web)
 * for exactly the model tiles the view covers, centre first, draws each tile's glomeruli as it arrives, and
 * scores them live against loaded annotations.
 *
 * @dependency glomseg-panel
 *
 * @property map - The OpenLayers map showing the slide in level-0 pixel coordinates (set as a property).
 * @property serverUrl - Base URL of the glomseg server's gRPC-Web endpoint; default: this page's origin.
 * @property slide - Slide id on the server.
 * @property model - Model id; default: the server's first model.
 * @property threshold - Probability threshold; 0: the model card's.
 * @property mppOverride - Slide pixel size (um/px) to assume when the file does not state it; 0: the file's.
 * @property opacity - Opacity of the prediction layer, 0 to 1.
 * @property visible - Whether predictions are shown.
 * @property annotationsUrl - URL of ground-truth annotations to load (QuPath GeoJSON, labelme, HuBMAP RLE CSV).
 * @property pixelOrigin - 'top-left' (map y = -slide y, default) or 'bottom-left' (map y = height - slide y).
 * @property maxTiles - Most model tiles asked for at once.
 * @property headers - Headers for every call (e.g. authorization), or a function that returns them (set as a property).
 * @property exportObjectType - QuPath object type of exported predictions: 'detection' (default) or 'annotation'.
 * @property outline - Predictions drawn as outlines only, without fill over the tissue.
 * @property heatmap - Shows the probability heatmap: the model's probability at each pixel (viridis; none under 0.1).
 * @property heatmapOpacity - The heatmap's opacity, 0 to 1.
 *
 * @event glomseg-tile - A tile's predictions arrived, once per tile (detail: TileEventDetail).
 * @event glomseg-progress - Tiles received of the view or the streaming state changed (detail: ProgressEventDetail).
 * @event glomseg-dice - The live Dice and object metrics changed (detail: LiveDiceMetrics).
 * @event glomseg-error - Server unreachable, unsupported slide, bad annotations, slide image tiles that fail to load, a save refused (detail: ErrorEventDetail).
 * @event glomseg-corrections - The corrections or the editing tool changed (detail: CorrectionsEventDetail).
 * @event glomseg-annotations-saved - The corrections were saved as a new version (detail: AnnotationsVersionEventDetail).
 * @event glomseg-annotations-loaded - The slide's latest saved corrections were loaded (detail: AnnotationsVersionEventDetail).
 *
 * @csspart panel - The control panel.
 * @csspart status - Streaming status line with its progress bar.
 * @csspart scale-note - Says when the slide's pixel size was estimated or assumed, and what to do: one folded line where the scale is probably right (data-level="quiet"), open where it is likely wrong ("prominent").
 * @csspart error - The visible error message.
 * @csspart controls - Threshold, opacity, pixel size and visibility controls.
 * @csspart pixel-size - The slide's pixel size (µm/px) box; empty: the slide's own.
 * @csspart annotations - Annotation loading controls.
 * @csspart annotations-warning - Warns of annotations that lie off the slide.
 * @csspart sizes - The glomerulus size distribution.
 * @csspart density - Glomeruli per mm² (data-value holds the number).
 * @csspart histogram - The size histogram.
 * @csspart dice - The Dice panel.
 * @csspart dice-global - Global Dice value (data-value holds the unrounded number).
 * @csspart dice-mean-tile - Mean Dice of the 1600 × 1200 squares (data-value holds the unrounded number).
 * @csspart dice-precision - Object precision (data-value holds the unrounded number).
 * @csspart dice-recall - Object recall (data-value holds the unrounded number).
 * @csspart dice-f1 - Object F1 at IoU ≥ 0.5 (data-value holds the unrounded number).
 * @csspart legend - Colour legend.
 * @csspart export - The export button.
 * @csspart editing - Corrections: editing on or off, its tools, undo/redo, save and load (data-mode: off, select, draw, region).
 * @csspart editing-toggle - Turns editing on or off.
 * @csspart editing-counts - Counts of accepted, corrected and reviewed items (data-accepted, data-corrected, data-regions, ...).
 * @csspart editing-saved - The latest saved version and whether there are unsaved changes (data-base, data-unsaved).
 * @csspart editing-message - What a save or load came to (data-kind: info or error).
 * @csspart model-picker - The server's models (a new version among them); choosing one shows its predictions.
 * @csspart adapt - Adapts the model shown to the corrections saved for this slide (AdaptModel).
 * @csspart adapt-progress - The adaptation's phase, step, loss and time left (data-phase).
 * @csspart adapt-result - The new version and its held-out figures before and after (data-model).
 * @csspart adapt-error - Why an adaptation was refused or failed.
 */
export default class GlomsegOverlay extends GlomsegElement implements PanelInputTarget {
  static override styles = [overlayStyles, editingStyles];
  static override dependencies = { 'glomseg-panel': GlomsegPanel };

  @property({ attribute: false }) map?: OlMap;
  @property({ attribute: 'server-url' }) serverUrl = '';
  @property() slide = '';
  @property() model = '';
  @property({ type: Number }) threshold = 0;
  @property({ type: Number, attribute: 'mpp-override' }) mppOverride = 0;
  @property({ type: Number }) opacity = 0.8;
  @property({ type: Boolean, converter: { fromAttribute: (value) => value !== 'false' && value !== '0' } }) visible =
    true;
  @property({ attribute: 'annotations-url' }) annotationsUrl = '';
  @property({ attribute: 'pixel-origin' }) pixelOrigin: PixelOrigin = 'top-left';
  @property({ type: Number, attribute: 'max-tiles' }) maxTiles = 400;
  /** Headers for every call to the server (e.g. authorization), or a function that returns them (a token provider). */
  @property({ attribute: false }) headers?: RequestHeaders;
  /** QuPath object type of exported predictions: 'detection' (default) or 'annotation'. */
  @property({ attribute: 'export-object-type' }) exportObjectType: ExportObjectType = 'detection';
  @property({ type: Boolean }) outline = false;
  @property({ type: Boolean }) heatmap = false;
  @property({ type: Number, attribute: 'heatmap-opacity' }) heatmapOpacity = 0.7;

  private readonly controllers = overlayControllers(this, {
    serverUrl: () => this.serverUrl,
    pixelOrigin: () => this.pixelOrigin,
  });
  private readonly errors = this.controllers.errors;
  private readonly predictionsView = this.controllers.predictions;
  private readonly annotations = this.controllers.annotations;
  private readonly dice = this.controllers.dice;
  /** Outline-only display and the probability heatmap, on the predictions' map. */
  protected readonly display = new DisplayController(this, this.predictionsView.layer);
  /** Corrections of the predictions (the tools, undo, save and load): for a portal's own buttons and keys. */
  readonly editor = editingController(this, this.predictionsView.layer);

  private get session(): PredictionSession | undefined {
    return this.predictionsView.layer.session;
  }

  // ---- public API ----

  /** Glomeruli drawn now (pieces joined across tiles), in level-0 pixels. */
  get predictions(): Polygon[] {
    return this.session?.store.polygons() ?? [];
  }

  /** The model's tile grid on the slide, once known. */
  get grid(): TileGrid | undefined {
    return this.session?.model.grid;
  }

  /** The model card in use, once known. */
  get modelCard(): ModelCard | undefined {
    return this.session?.model.card;
  }

  /** The latest live metrics, when annotations are loaded. */
  get metrics(): LiveDiceMetrics | undefined {
    return this.dice.metrics;
  }

  /** Streams opened and aborted since the slide was set (each view change that needs other tiles aborts one). */
  get streamStats(): { opened: number; aborted: number; tilesReceived: number } {
    const controller = this.session?.controller;
    return {
      opened: controller?.streamsOpened ?? 0,
      aborted: controller?.streamsAborted ?? 0,
      tilesReceived: controller?.received.size ?? 0,
    };
  }

  /** Loads annotations from text (any supported format) or a File / Blob. */
  loadAnnotations(source: string | Blob, options: AnnotationLoadOptions = {}): Promise<LoadedAnnotations | undefined> {
    return this.annotations.load(typeof source === 'string' ? { text: source } : { file: source }, options);
  }

  /** Fetches and loads annotations from a URL. */
  loadAnnotationsFromUrl(url: string, options: AnnotationLoadOptions = {}): Promise<LoadedAnnotations | undefined> {
    return this.annotations.load({ url }, options);
  }

  /** Shows or hides the loaded annotations. */
  showAnnotations(visible: boolean): void {
    this.annotations.setVisible(visible);
  }

  clearAnnotations(): void {
    this.annotations.clear();
  }

  /** Predictions as QuPath GeoJSON (FeatureCollection, level-0 pixels). */
  exportGeoJson(options: { objectType?: ExportObjectType } = {}): GeoJsonFeatureCollection {
    return predictionsGeoJson(this.session, options.objectType ?? this.exportObjectType);
  }

  /** Saves the predictions as a QuPath GeoJSON file. */
  downloadGeoJson(): void {
    downloadGeoJson(this.exportGeoJson(), this.session?.slide.name);
  }

  /** Drops what was received and asks again for the current view. */
  refresh(): void {
    this.predictionsView.layer.refresh();
  }

  // ---- lifecycle ----

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.map && !this.predictionsView.layer.attachedMap) this.controllers.attach(this.map);
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Ground truth belongs to the slide it was loaded for: another slide starts without it.
    if (changed.has('slide') && changed.get('slide')) this.clearAnnotations();
    if (changed.has('map') && this.isConnected) this.controllers.attach(this.map);
    const newSession = SESSION_KEYS.some((key) => changed.has(key));
    if (newSession || changed.has('threshold')) this.configurePredictions(newSession, changed.has('map'));
    if (changed.has('opacity')) this.predictionsView.layer.layer.setOpacity(this.opacity);
    if (changed.has('visible')) this.predictionsView.layer.shown = this.visible;
    if (changed.has('annotationsUrl') && this.annotationsUrl) void this.loadAnnotationsFromUrl(this.annotationsUrl);
  }

  /** A session is keyed on server, slide, model and scale; a threshold alone only cuts again. */
  private configurePredictions(newSession: boolean, newMap: boolean): void {
    if (newSession) {
      this.errors.forget();
      this.predictionsView.resetProgress();
    }
    const layer = this.predictionsView.layer;
    const { serverUrl, headers, slide, model, threshold, mppOverride, pixelOrigin, maxTiles } = this;
    layer.configure({ serverUrl, headers, slide, model, threshold, mppOverride, pixelOrigin, maxTiles });
    // Another map for the same slide: the session's view and frame belong to the old one.
    if (newMap && layer.session) layer.refresh();
  }

  // ---- rendering ----

  private onPanelInput(event: GlomsegPanelInputEvent): void {
    applyPanelInput(this, event.detail);
  }

  /** Done once the panel inside has drawn this update too (it renders a microtask later). */
  protected override async getUpdateComplete(): Promise<boolean> {
    const done = await super.getUpdateComplete();
    await this.renderRoot.querySelector('glomseg-panel')?.updateComplete;
    return done;
  }

  protected override render() {
    const state = panelStateOf({
      session: this.session,
      progress: this.predictionsView.progress,
      loading: this.predictionsView.loading,
      error: this.errors.shown,
      hasSlide: !!this.slide,
      threshold: this.threshold,
      opacity: this.opacity,
      mppOverride: this.mppOverride,
      visible: this.visible,
      annotationsVisible: this.annotations.visible,
      annotations: this.annotations.loaded,
      dice: this.dice.metrics,
    });
    return html`<glomseg-panel .state=${state} @glomseg-panel-input=${this.onPanelInput}></glomseg-panel>
      ${editingTemplate(
        this.editor,
        adaptTemplate(this.editor.adapter, this.model, (id) => (this.model = id)),
      )}`;
  }
}
