import { LitElement, html, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type OlMap from 'ol/Map.js';
import type { Polygon } from '@glomseg/shared/geometry.js';
import { toQuPathGeoJson, type AnnotationFormat, type GeoJsonFeatureCollection } from '@glomseg/shared/annotations.js';
import { tileBounds, type TileGrid } from '@glomseg/shared/tile-grid.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { glomsegEvent, type ErrorEventDetail, type ProgressEventDetail } from '../../events.js';
import { describeError, type RequestHeaders } from '../../glomseg-client.js';
import type { PredictedGlomerulus } from '../../prediction-store.js';
import { LiveDiceScorer, type LiveDiceMetrics } from '../../dice-panel.js';
import type { LoadedAnnotations } from '../../annotation-source.js';
import { SlideFrame, type PixelOrigin } from '../../slide-frame.js';
import { PredictionLayer, type PredictionSession } from '../../layers/prediction-layer.js';
import { AnnotationLayer, type AnnotationInput } from '../../layers/annotation-layer.js';
import { overlayStyles } from './glomseg-overlay.styles.js';
import '../panel/glomseg-panel.js';
import type { PanelInput, PanelState } from '../panel/glomseg-panel.js';

const DICE_THROTTLE_MS = 250;
/** Longest stretch of scoring already-received tiles between two frames. */
const SCORE_SLICE_MS = 8;

/**
 * Glomerulus predictions over a slide that an OpenLayers map already shows. Asks the glomseg server (gRPC-Web)
 * for exactly the model tiles the view covers, centre first, draws each tile's glomeruli as it arrives, and
 * scores them live against loaded annotations.
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
 *
 * @event glomseg-tile - A tile's predictions arrived (detail: TileEventDetail).
 * @event glomseg-progress - Tiles received of the view, streaming state (detail: ProgressEventDetail).
 * @event glomseg-dice - Live Dice and object metrics changed (detail: LiveDiceMetrics).
 * @event glomseg-error - Server unreachable, unsupported slide, bad annotations (detail: ErrorEventDetail).
 *
 * @csspart panel - The control panel.
 * @csspart status - Streaming status line with its progress bar.
 * @csspart error - The visible error message.
 * @csspart controls - Threshold, opacity and visibility controls.
 * @csspart annotations - Annotation loading controls.
 * @csspart dice - The Dice panel.
 * @csspart dice-global - Global Dice value (data-value holds the unrounded number).
 * @csspart legend - Colour legend.
 * @csspart export - The export button.
 */
export class GlomsegOverlay extends LitElement {
  static override styles = overlayStyles;

  @property({ attribute: false }) map?: OlMap;
  @property({ attribute: 'server-url' }) serverUrl = '';
  @property() slide = '';
  @property() model = '';
  @property({ type: Number }) threshold = 0;
  @property({ type: Number, attribute: 'mpp-override' }) mppOverride = 0;
  @property({ type: Number }) opacity = 0.8;
  @property({ type: Boolean, converter: { fromAttribute: (value) => value !== 'false' && value !== '0' } }) visible = true;
  @property({ attribute: 'annotations-url' }) annotationsUrl = '';
  @property({ attribute: 'pixel-origin' }) pixelOrigin: PixelOrigin = 'top-left';
  @property({ type: Number, attribute: 'max-tiles' }) maxTiles = 400;
  /** Headers for every call to the server (e.g. authorization), or a function that returns them (a token provider). */
  @property({ attribute: false }) headers?: RequestHeaders;
  /** QuPath object type of exported predictions: 'detection' (default) or 'annotation'. */
  @property({ attribute: 'export-object-type' }) exportObjectType: 'detection' | 'annotation' = 'detection';

  @state() private progress: ProgressEventDetail = { received: 0, total: 0, streaming: false, limited: false, polygons: 0 };
  @state() private error?: ErrorEventDetail;
  @state() private loading = false;
  @state() private annotations?: LoadedAnnotations;
  @state() private dice?: LiveDiceMetrics;
  @state() private annotationsVisible = true;

  /** The two map layers; this element adds the panel and scores one against the other. */
  private readonly predictionsLayer = new PredictionLayer({
    onSession: (session) => this.onSession(session),
    onCut: () => {
      if (this.annotations) this.rebuildScorer();
    },
    onTile: (result, session) => {
      this.scorer?.addTile(result.tile, session.store.polygons());
      this.dispatchEvent(glomsegEvent('glomseg-tile', { tile: result.tile, bounds: result.bounds, polygons: result.polygons, cached: result.cached }));
      this.scheduleDice();
    },
    onState: (streamState, session) => {
      this.progress = { ...streamState, polygons: session.store.size };
      if (streamState.streaming) this.error = undefined;
      this.dispatchEvent(glomsegEvent('glomseg-progress', this.progress));
      // The last tile of a view: score at once so the panel shows the final numbers.
      if (!streamState.streaming && streamState.received === streamState.total) {
        this.predictionsLayer.dropStale();
        this.updateDice();
      }
    },
    onError: (error) => this.showError(error),
    onLoading: (loading) => (this.loading = loading),
  });
  private readonly annotationsLayer = new AnnotationLayer((file) => void this.loadAnnotations(file));
  private scorer?: LiveDiceScorer;
  private diceTimer?: ReturnType<typeof setTimeout>;

  private get session(): PredictionSession | undefined {
    return this.predictionsLayer.session;
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
    return this.dice;
  }

  /** Streams opened and aborted since the slide was set (each view change that needs other tiles aborts one). */
  get streamStats(): { opened: number; aborted: number; tilesReceived: number } {
    const controller = this.session?.controller;
    return { opened: controller?.streamsOpened ?? 0, aborted: controller?.streamsAborted ?? 0, tilesReceived: controller?.received.size ?? 0 };
  }

  /** Loads annotations from text (any supported format) or a File / Blob. */
  loadAnnotations(source: string | Blob, options: { format?: AnnotationFormat; name?: string } = {}): Promise<LoadedAnnotations | undefined> {
    return this.applyAnnotations(typeof source === 'string' ? { text: source } : { file: source }, options);
  }

  /** Fetches and loads annotations from a URL. */
  loadAnnotationsFromUrl(url: string, options: { format?: AnnotationFormat; name?: string } = {}): Promise<LoadedAnnotations | undefined> {
    return this.applyAnnotations({ url }, options);
  }

  clearAnnotations(): void {
    this.annotationsLayer.clear();
    this.annotations = undefined;
    this.scorer = undefined;
    this.dice = undefined;
    this.classifyPredictions(undefined);
  }

  /** Predictions as QuPath GeoJSON (FeatureCollection, level-0 pixels). */
  exportGeoJson(options: { objectType?: 'detection' | 'annotation' } = {}): GeoJsonFeatureCollection {
    const session = this.session;
    return toQuPathGeoJson(session?.store.polygons() ?? [], {
      objectType: options.objectType ?? this.exportObjectType,
      mpp: session?.model.grid.mppAssumed,
      idScope: session?.slide.name,
    });
  }

  /** Saves the predictions as a QuPath GeoJSON file. */
  downloadGeoJson(): void {
    const blob = new Blob([JSON.stringify(this.exportGeoJson())], { type: 'application/geo+json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `${this.session?.slide.name ?? 'slide'}-glomseg.geojson`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  /** Drops what was received and asks again for the current view. */
  refresh(): void {
    this.predictionsLayer.refresh();
  }

  // ---- lifecycle ----

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.map && !this.predictionsLayer.attachedMap) this.attachMap(this.map);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.diceTimer);
    this.predictionsLayer.dispose();
    this.annotationsLayer.clear();
    this.annotationsLayer.detach();
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Ground truth belongs to the slide it was loaded for: another slide starts without it.
    if (changed.has('slide') && changed.get('slide')) this.clearAnnotations();
    if (changed.has('map') && this.isConnected) {
      if (this.map) this.attachMap(this.map);
      else {
        this.predictionsLayer.detach();
        this.annotationsLayer.detach();
      }
    }
    const sessionKeys = ['map', 'headers', 'serverUrl', 'slide', 'model', 'mppOverride', 'pixelOrigin', 'maxTiles'];
    const newSession = sessionKeys.some((key) => changed.has(key as keyof GlomsegOverlay));
    if (newSession || changed.has('threshold')) {
      if (newSession) {
        this.error = undefined;
        this.dice = undefined;
        this.progress = { received: 0, total: 0, streaming: false, limited: false, polygons: 0 };
      }
      // A session is keyed on server, slide, model and scale; a threshold alone only cuts again.
      this.predictionsLayer.configure({
        serverUrl: this.serverUrl,
        headers: this.headers,
        slide: this.slide,
        model: this.model,
        threshold: this.threshold,
        mppOverride: this.mppOverride,
        pixelOrigin: this.pixelOrigin,
        maxTiles: this.maxTiles,
      });
      // Another map for the same slide: the session's view and frame belong to the old one.
      if (changed.has('map') && this.predictionsLayer.session) this.predictionsLayer.refresh();
    }
    if (changed.has('opacity')) this.predictionsLayer.layer.setOpacity(this.opacity);
    if (changed.has('visible')) this.predictionsLayer.layer.setVisible(this.visible);
    if (changed.has('annotationsUrl') && this.annotationsUrl) void this.loadAnnotationsFromUrl(this.annotationsUrl);
  }

  private attachMap(map: OlMap): void {
    this.annotationsLayer.attach(map);
    this.predictionsLayer.attach(map);
  }

  private onSession(session: PredictionSession | undefined): void {
    clearTimeout(this.diceTimer);
    this.scorer = undefined;
    if (!session) return;
    // Annotations loaded before the slide was known were placed without its height: place them again.
    if (this.annotations) {
      if (session.frame.origin === 'bottom-left') this.annotationsLayer.place(session.frame);
      this.rebuildScorer();
    }
  }

  // ---- annotations and Dice ----

  private async applyAnnotations(input: AnnotationInput, options: { format?: AnnotationFormat; name?: string }): Promise<LoadedAnnotations | undefined> {
    const session = this.session;
    const size = { width: session?.slide.width, height: session?.slide.height };
    try {
      const loaded = await this.annotationsLayer.load(input, options, size, session?.frame ?? new SlideFrame(0, 0, this.pixelOrigin));
      if (!loaded) return undefined;
      this.annotations = loaded;
      this.rebuildScorer();
      return loaded;
    } catch (error) {
      this.showError(error);
      return undefined;
    }
  }

  /** (Re)scores every tile received so far against the current annotations. */
  private rebuildScorer(): void {
    const session = this.session;
    if (!session || !this.annotations) return;
    const scorer = new LiveDiceScorer(session.model.grid, this.annotations.polygons);
    this.scorer = scorer;
    // Tiles received before the annotations are scored in slices between frames: hundreds of large tiles scored
    // at once froze the page for seconds. New tiles are scored as they arrive meanwhile (addTile counts each once).
    const backlog = [...session.controller.received];
    const slice = () => {
      if (this.scorer !== scorer || this.session !== session) return;
      const started = performance.now();
      const predicted = session.store.polygons();
      while (backlog.length > 0 && performance.now() - started < SCORE_SLICE_MS) {
        const [col, row] = backlog.pop()!.split(',').map(Number);
        scorer.addTile({ col, row }, predicted);
      }
      if (backlog.length > 0) setTimeout(slice, 0);
      else this.updateDice();
    };
    slice();
  }

  private scheduleDice(): void {
    if (!this.scorer || this.diceTimer !== undefined) return;
    this.diceTimer = setTimeout(() => {
      this.diceTimer = undefined;
      this.updateDice();
    }, DICE_THROTTLE_MS);
  }

  private updateDice(): void {
    clearTimeout(this.diceTimer);
    this.diceTimer = undefined;
    const session = this.session;
    // Nothing scored yet is no Dice at all (an empty score would read as a perfect 1).
    if (!session || !this.scorer || this.scorer.tilesScored === 0) return;
    const entries = session.store.all();
    const result = this.scorer.result(entries.map((entry) => entry.polygon));
    this.dice = result.metrics;
    this.classifyPredictions({ entries, classes: result.predictedClasses, truthClasses: result.truthClasses });
    this.dispatchEvent(glomsegEvent('glomseg-dice', result.metrics));
  }

  private classifyPredictions(classes: { entries: PredictedGlomerulus[]; classes: string[]; truthClasses: import('../../dice-panel.js').TruthClass[] } | undefined): void {
    const source = this.predictionsLayer.source;
    if (!classes) {
      source.getFeatures().forEach((feature) => feature.set('class', undefined, true));
      source.changed();
      return;
    }
    classes.entries.forEach((entry, i) => source.getFeatureById(entry.id)?.set('class', classes.classes[i], true));
    this.annotationsLayer.classify(classes.truthClasses);
    source.changed();
  }

  private showError(error: unknown): void {
    this.error = error instanceof GlomsegError ? { code: error.code, message: error.message } : describeError(error, this.serverUrl);
    this.loading = false;
    this.dispatchEvent(glomsegEvent('glomseg-error', this.error));
  }

  // ---- rendering ----

  private panelState(): PanelState {
    const session = this.session;
    let areaPredicted = 0;
    let tissuePredicted = 0;
    if (session) {
      for (const key of session.controller.received) {
        const [col, row] = key.split(',').map(Number);
        const bounds = tileBounds(session.model.grid, { col, row });
        areaPredicted += bounds.width * bounds.height;
        tissuePredicted += session.tissue.get(key) ?? 0;
      }
    }
    return {
      progress: this.progress,
      loading: this.loading,
      error: this.error,
      hasSlide: !!this.slide,
      threshold: this.threshold || session?.model.card.threshold || 0.5,
      opacity: this.opacity,
      visible: this.visible,
      annotationsVisible: this.annotationsVisible,
      annotations: this.annotations,
      dice: this.dice,
      grid: session?.model.grid,
      slideSize: session ? { width: session.slide.width, height: session.slide.height } : undefined,
      polygons: session && session.store.size > 0 ? session.store.polygons() : [],
      areaPredicted,
      tissuePredicted,
    };
  }

  private onPanelInput(event: CustomEvent<PanelInput>): void {
    const input = event.detail;
    switch (input.name) {
      case 'threshold':
        this.threshold = input.value;
        break;
      case 'opacity':
        this.opacity = input.value;
        break;
      case 'visible':
        this.visible = input.value;
        break;
      case 'annotationsVisible':
        this.annotationsVisible = input.value;
        this.annotationsLayer.layer.setVisible(input.value);
        break;
      case 'loadFile':
        void this.loadAnnotations(input.value);
        break;
      case 'clearAnnotations':
        this.clearAnnotations();
        break;
      case 'export':
        this.downloadGeoJson();
        break;
    }
  }

  /** Done once the panel inside has drawn this update too (it renders a microtask later). */
  protected override async getUpdateComplete(): Promise<boolean> {
    const done = await super.getUpdateComplete();
    await this.renderRoot.querySelector('glomseg-panel')?.updateComplete;
    return done;
  }

  protected override render() {
    return html`<glomseg-panel .state=${this.panelState()} @glomseg-panel-input=${this.onPanelInput}></glomseg-panel>`;
  }
}
