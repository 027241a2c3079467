import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type OlMap from 'ol/Map.js';
import type View from 'ol/View.js';
import Feature from 'ol/Feature.js';
import OlPolygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import { unByKey } from 'ol/Observable.js';
import { getForViewAndSize } from 'ol/extent.js';
import OlOverlay from 'ol/Overlay.js';
import type MapBrowserEvent from 'ol/MapBrowserEvent.js';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import { areasUm2, densityPerMm2, histogramSvg, sizeHistogram } from '@glomseg/shared/size-distribution.js';
import type { EventsKey } from 'ol/events.js';
import type { Polygon } from '@glomseg/shared/geometry.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import { toQuPathGeoJson, type AnnotationFormat, type GeoJsonFeatureCollection } from '@glomseg/shared/annotations.js';
import { minAreaOnSlide, tileBounds, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { scaleNote } from '@glomseg/shared/scale-estimate.js';
import { glomsegEvent, type ErrorEventDetail, type ProgressEventDetail } from '../../events.js';
import { describeError, glomsegClient, type RequestHeaders } from '../../glomseg-client.js';
import { modelOnSlideFromProto, polygonFromProto, rectFromProto, slideFromProto, type ModelOnSlide } from '../../proto-to-domain.js';
import { TileStreamController, type ReceivedTile, type TileStreamState } from '../../tile-stream.js';
import { PredictionStore, type PredictedGlomerulus } from '../../prediction-store.js';
import { LiveDiceScorer, formatScore, type LiveDiceMetrics } from '../../dice-panel.js';
import { annotationsOffSlide, fetchAnnotations, parseAnnotationText, readAnnotationFile, type LoadedAnnotations } from '../../annotation-source.js';
import { SlideFrame, type PixelOrigin } from '../../slide-frame.js';
import { CLASS_COLOURS, LEGEND, annotationStyle, predictionStyle, type FeatureClass } from '../../feature-styles.js';
import { overlayStyles } from './glomseg-overlay.styles.js';

/** Starts a new stream this long after the view stops changing, if OpenLayers' moveend has not come first. */
const VIEW_SETTLE_MS = 200;
const DICE_THROTTLE_MS = 250;
/** Longest stretch of scoring already-received tiles between two frames. */
const SCORE_SLICE_MS = 8;

interface Session {
  abort: AbortController;
  slide: SlideMetadata;
  model: ModelOnSlide;
  frame: SlideFrame;
  controller: TileStreamController;
  store: PredictionStore;
}

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
  /** QuPath object type of exported predictions: 'detection' (default) or 'annotation'. */
  /** Headers for every call to the server (e.g. authorization), or a function that returns them (a token provider). */
  @property({ attribute: false }) headers?: RequestHeaders;
  @property({ attribute: 'export-object-type' }) exportObjectType: 'detection' | 'annotation' = 'detection';

  @state() private progress: ProgressEventDetail = { received: 0, total: 0, streaming: false, limited: false, polygons: 0 };
  @state() private error?: ErrorEventDetail;
  @state() private loading = false;
  @state() private annotations?: LoadedAnnotations;
  @state() private dice?: LiveDiceMetrics;
  @state() private annotationsVisible = true;

  private session?: Session;
  /** Cuts made (sessions and threshold changes): part of every feature id. */
  private cuts = 0;
  private scorer?: LiveDiceScorer;
  private readonly predictionSource = new VectorSource<Feature<OlPolygon>>();
  private readonly annotationSource = new VectorSource<Feature<OlPolygon>>();
  private readonly predictionLayer = new VectorLayer({ source: this.predictionSource, style: predictionStyle, zIndex: 20, properties: { name: 'glomseg-predictions' } });
  private readonly annotationLayer = new VectorLayer({ source: this.annotationSource, style: annotationStyle, zIndex: 19, properties: { name: 'glomseg-annotations' } });
  private mapKeys: EventsKey[] = [];
  /** The measurements of the polygon under the pointer (or last clicked), on the map. */
  private readonly tooltipElement = Object.assign(document.createElement('div'), { className: 'glomseg-measurements' });
  private readonly tooltip = new OlOverlay({ element: this.tooltipElement, offset: [12, 12], positioning: 'top-left', stopEvent: false });
  private viewKeys: EventsKey[] = [];
  private settleTimer?: ReturnType<typeof setTimeout>;
  private diceTimer?: ReturnType<typeof setTimeout>;
  private annotationAbort?: AbortController;
  private attachedMap?: OlMap;
  private readonly onDragOver = (event: DragEvent) => {
    if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
  };
  private readonly onDrop = (event: DragEvent) => {
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    event.preventDefault();
    void this.loadAnnotations(file);
  };

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
  async loadAnnotations(source: string | Blob, options: { format?: AnnotationFormat; name?: string } = {}): Promise<LoadedAnnotations | undefined> {
    const signal = this.beginAnnotationLoad();
    const size = { width: this.session?.slide.width, height: this.session?.slide.height };
    return this.applyAnnotations(
      () => (typeof source === 'string' ? Promise.resolve(parseAnnotationText(source, { ...options, ...size })) : readAnnotationFile(source, { ...options, ...size, signal })),
      signal,
    );
  }

  /** Fetches and loads annotations from a URL. */
  async loadAnnotationsFromUrl(url: string, options: { format?: AnnotationFormat; name?: string } = {}): Promise<LoadedAnnotations | undefined> {
    const signal = this.beginAnnotationLoad();
    const size = { width: this.session?.slide.width, height: this.session?.slide.height };
    return this.applyAnnotations(() => fetchAnnotations(url, { ...options, ...size, signal }), signal);
  }

  clearAnnotations(): void {
    this.annotationAbort?.abort();
    this.annotations = undefined;
    this.annotationSource.clear();
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
    void this.startSession();
  }

  // ---- lifecycle ----

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.map && !this.attachedMap) this.attachMap(this.map);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.endSession();
    this.detachMap();
    this.annotationAbort?.abort();
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Ground truth belongs to the slide it was loaded for: another slide starts without it.
    if (changed.has('slide') && changed.get('slide')) this.clearAnnotations();
    if (changed.has('map') && this.isConnected) {
      this.detachMap();
      if (this.map) this.attachMap(this.map);
    }
    // A session is keyed on server, slide, model and scale; a threshold alone only cuts again.
    if (['map', 'headers', 'serverUrl', 'slide', 'model', 'mppOverride', 'pixelOrigin', 'maxTiles'].some((key) => changed.has(key as keyof GlomsegOverlay))) {
      void this.startSession();
    } else if (changed.has('threshold')) {
      this.recut();
    }
    if (changed.has('opacity')) this.predictionLayer.setOpacity(this.opacity);
    if (changed.has('visible')) this.predictionLayer.setVisible(this.visible);
    if (changed.has('annotationsUrl') && this.annotationsUrl) void this.loadAnnotationsFromUrl(this.annotationsUrl);
  }

  private attachMap(map: OlMap): void {
    this.attachedMap = map;
    map.addLayer(this.annotationLayer);
    map.addLayer(this.predictionLayer);
    map.addOverlay(this.tooltip);
    Object.assign(this.tooltipElement.style, {
      background: 'rgba(20, 20, 20, 0.85)', color: '#fff', font: '12px/1.4 system-ui, sans-serif', padding: '4px 8px',
      borderRadius: '4px', pointerEvents: 'none', whiteSpace: 'nowrap', display: 'none',
    });
    this.mapKeys = [
      map.on('pointermove', (event) => this.showMeasurements(event)),
      map.on('singleclick', (event) => this.showMeasurements(event)),
      map.on('moveend', () => this.onViewSettled()),
      map.on('change:view', () => this.bindView()),
      map.on('change:size', () => this.onViewSettled()),
    ];
    const viewport = map.getViewport();
    viewport?.addEventListener('dragover', this.onDragOver);
    viewport?.addEventListener('drop', this.onDrop);
    this.bindView();
  }

  private detachMap(): void {
    const map = this.attachedMap;
    if (!map) return;
    unByKey(this.mapKeys);
    unByKey(this.viewKeys);
    this.mapKeys = [];
    this.viewKeys = [];
    map.removeLayer(this.predictionLayer);
    map.removeLayer(this.annotationLayer);
    map.removeOverlay(this.tooltip);
    map.getViewport()?.removeEventListener('dragover', this.onDragOver);
    map.getViewport()?.removeEventListener('drop', this.onDrop);
    this.attachedMap = undefined;
  }

  private bindView(): void {
    unByKey(this.viewKeys);
    const view: View | undefined = this.attachedMap?.getView();
    this.viewKeys = view ? [view.on('change:center', () => this.onViewChanging()), view.on('change:resolution', () => this.onViewChanging())] : [];
    this.onViewSettled();
  }

  // ---- streaming ----

  private endSession(): void {
    clearTimeout(this.settleTimer);
    clearTimeout(this.diceTimer);
    const session = this.session;
    this.session = undefined;
    this.scorer = undefined;
    if (!session) return;
    session.abort.abort();
    session.controller.dispose();
    this.predictionSource.clear();
  }

  private async startSession(): Promise<void> {
    this.endSession();
    this.error = undefined;
    this.dice = undefined;
    this.progress = { received: 0, total: 0, streaming: false, limited: false, polygons: 0 };
    if (!this.map || !this.slide) return;
    const abort = new AbortController();
    const { signal } = abort;
    const slideId = this.slide;
    const client = glomsegClient(this.serverUrl, this.headers);
    this.loading = true;
    try {
      const [info, models] = await Promise.all([
        client.getSlideInfo({ slideId }, { signal }),
        client.listModels({ slideId, mppOverride: this.mppOverride }, { signal }),
      ]);
      if (signal.aborted) return;
      const slide = slideFromProto(info);
      const chosen = this.model ? models.models.find((m) => m.id === this.model) : models.models[0];
      if (!chosen) {
        const available = models.models.map((m) => m.id).join(', ') || 'none';
        throw new GlomsegError('NOT_FOUND', this.model ? `the server has no model '${this.model}' (available: ${available})` : 'the server has no models');
      }
      const model = modelOnSlideFromProto(chosen, slide);
      if (!model) throw new GlomsegError('INTERNAL', `the server sent no tile grid for model ${chosen.id} on slide ${slideId}`);
      this.session = {
        abort,
        slide,
        model,
        frame: new SlideFrame(slide.width, slide.height, this.pixelOrigin),
        ...this.cutAt(slideId, model),
      };
      if (this.annotations) this.rebuildScorer();
      this.onViewSettled();
    } catch (error) {
      if (!signal.aborted) this.showError(error);
    } finally {
      if (!signal.aborted) this.loading = false;
    }
  }

  /** A store and stream for the current threshold; ids carry the cut's number, so two cuts' features never clash. */
  private cutAt(slideId: string, model: ModelOnSlide): Pick<Session, 'controller' | 'store'> {
    const threshold = this.threshold;
    const mppOverride = this.mppOverride;
    const store = new PredictionStore(minAreaOnSlide(model.card, model.grid), `c${++this.cuts}:`);
    const controller = new TileStreamController({
      grid: model.grid,
      maxTiles: this.maxTiles,
      source: (tiles, streamSignal) => this.streamTiles({ slideId, modelId: model.card.id, threshold, mppOverride }, tiles, streamSignal),
      onTile: (tile) => this.onTile(tile),
      onState: (streamState) => this.onStreamState(streamState),
      onError: (error) => this.showError(error),
    });
    return { controller, store };
  }

  /**
   * A new threshold on the same server, slide, model and scale: no new session. The polygons drawn stay until the
   * tile they lie on arrives at the new cut (the server re-cuts its kept probabilities, so that is quick).
   */
  private recut(): void {
    const session = this.session;
    if (!session) return void this.startSession();
    session.controller.dispose();
    for (const feature of this.predictionSource.getFeatures()) feature.set('stale', true, true);
    Object.assign(session, this.cutAt(session.slide.id, session.model));
    if (this.annotations) this.rebuildScorer();
    this.onViewSettled();
  }

  /** Drops the previous cut's features on a tile (or all of them) once the new cut has it. */
  private dropStale(bounds?: { x: number; y: number; width: number; height: number }): void {
    const session = this.session;
    if (!session) return;
    const candidates = bounds
      ? this.predictionSource.getFeaturesInExtent(session.frame.mapExtentOf(bounds))
      : this.predictionSource.getFeatures();
    const stale = candidates.filter((feature) => feature.get('stale'));
    if (stale.length > 0) this.predictionSource.removeFeatures(stale);
  }

  private async *streamTiles(
    request: { slideId: string; modelId: string; threshold: number; mppOverride: number },
    tiles: TileAddress[],
    signal: AbortSignal,
  ): AsyncIterable<ReceivedTile> {
    const client = glomsegClient(this.serverUrl, this.headers);
    for await (const result of client.streamTiles({ ...request, tiles }, { signal })) {
      yield {
        tile: { col: result.tile?.col ?? 0, row: result.tile?.row ?? 0 },
        bounds: rectFromProto(result.bounds),
        polygons: result.polygons.map(polygonFromProto),
        cached: result.cached,
      };
    }
  }

  private currentViewRect() {
    const map = this.attachedMap;
    const session = this.session;
    const size = map?.getSize();
    // A view without centre or resolution yet (a portal's new View before fit) has no extent to stream.
    if (!map || !session || !size || !(size[0] > 0 && size[1] > 0) || !map.getView().isDef()) return undefined;
    return session.frame.viewRect(map.getView().calculateExtent(size));
  }

  /**
   * Where an animation (a fling after a drag, a zoom button) will leave the view, when it says so: streaming can
   * start for the destination at once instead of after the animation. OpenLayers keeps the targets in the view's
   * animation list; an anchored zoom's destination centre is not stored, so that case waits as before.
   */
  private destinationRect() {
    const map = this.attachedMap;
    const session = this.session;
    const view = map?.getView();
    const size = map?.getSize();
    if (!view || !session || !size || !view.getAnimating()) return undefined;
    const series = (view as unknown as { animations_?: Array<Array<{ targetCenter?: number[]; targetResolution?: number; anchor?: number[] }>> }).animations_;
    const last = series?.at(-1)?.at(-1);
    if (!last || (last.anchor && last.targetResolution !== undefined)) return undefined;
    const center = last.targetCenter ?? view.getCenter();
    const resolution = last.targetResolution ?? view.getResolution();
    if (!center || !resolution) return undefined;
    return session.frame.viewRect(getForViewAndSize(center, resolution, view.getRotation(), size));
  }

  private onViewChanging(): void {
    const session = this.session;
    const destination = this.destinationRect();
    if (session && destination) {
      session.controller.setView(destination, true);
      return;
    }
    const rect = this.currentViewRect();
    if (!session || !rect) return;
    session.controller.setView(rect, false);
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.onViewSettled(), VIEW_SETTLE_MS);
  }

  private onViewSettled(): void {
    clearTimeout(this.settleTimer);
    const session = this.session;
    const rect = this.currentViewRect();
    if (!session || !rect) return;
    session.controller.setView(rect, true);
  }

  private onTile(result: ReceivedTile): void {
    const session = this.session;
    if (!session) return;
    this.dropStale(result.bounds);
    const change = session.store.addTile(result);
    for (const id of change.removedIds) {
      const feature = this.predictionSource.getFeatureById(id);
      if (feature) this.predictionSource.removeFeature(feature);
    }
    this.predictionSource.addFeatures(change.added.map((entry) => this.toFeature(entry, session.frame)));
    this.scorer?.addTile(result.tile, session.store.polygons());
    this.dispatchEvent(glomsegEvent('glomseg-tile', { tile: result.tile, bounds: result.bounds, polygons: result.polygons, cached: result.cached }));
    this.scheduleDice();
  }

  private onStreamState(streamState: TileStreamState): void {
    this.progress = { ...streamState, polygons: this.session?.store.size ?? 0 };
    if (streamState.streaming) this.error = undefined;
    this.dispatchEvent(glomsegEvent('glomseg-progress', this.progress));
    // The last tile of a view: score at once so the panel shows the final numbers.
    if (!streamState.streaming && streamState.received === streamState.total) {
      this.dropStale();
      this.updateDice();
    }
  }

  private toFeature(entry: PredictedGlomerulus, frame: SlideFrame): Feature<OlPolygon> {
    const { polygon } = entry;
    const feature = new Feature({
      geometry: new OlPolygon([frame.ringToMap(polygon.exterior), ...polygon.holes.map((hole) => frame.ringToMap(hole))]),
      area: polygon.area,
      meanProbability: polygon.meanProbability,
    });
    feature.setId(entry.id);
    return feature;
  }

  /** Area, mean probability and match class of the prediction under the pointer. */
  private showMeasurements(event: MapBrowserEvent<PointerEvent | KeyboardEvent | WheelEvent>): void {
    if (event.dragging) return;
    const mpp = this.session?.model.grid.mppAssumed;
    const feature = event.map.forEachFeatureAtPixel(event.pixel, (f) => f, { layerFilter: (layer) => layer === this.predictionLayer, hitTolerance: 2 });
    if (!feature || !this.visible) {
      this.tooltipElement.style.display = 'none';
      return;
    }
    const area = feature.get('area') as number;
    const cls = feature.get('class') as string | undefined;
    const words = cls === 'true-positive' ? 'true positive' : cls === 'false-positive' ? 'false positive' : 'not scored';
    const size = mpp ? `${Math.round(area * mpp * mpp).toLocaleString('en')} µm²` : `${Math.round(area).toLocaleString('en')} px²`;
    this.tooltipElement.textContent = `Glomerulus (predicted) · ${size} · mean probability ${(feature.get('meanProbability') as number).toFixed(2)} · ${words}`;
    this.tooltipElement.style.display = 'block';
    this.tooltip.setPosition(event.coordinate);
  }

  // ---- annotations and Dice ----

  private beginAnnotationLoad(): AbortSignal {
    this.annotationAbort?.abort();
    this.annotationAbort = new AbortController();
    return this.annotationAbort.signal;
  }

  private async applyAnnotations(load: () => Promise<LoadedAnnotations>, signal: AbortSignal): Promise<LoadedAnnotations | undefined> {
    try {
      const loaded = await load();
      if (signal.aborted) return undefined;
      this.annotations = loaded;
      const frame = this.session?.frame ?? new SlideFrame(0, 0, this.pixelOrigin);
      this.annotationSource.clear();
      this.annotationSource.addFeatures(
        loaded.polygons.map((polygon, i) => {
          const feature = new Feature({ geometry: new OlPolygon([frame.ringToMap(polygon.exterior), ...polygon.holes.map((h) => frame.ringToMap(h))]) });
          feature.setId(`a${i}`);
          return feature;
        }),
      );
      this.rebuildScorer();
      return loaded;
    } catch (error) {
      if (!signal.aborted) this.showError(error);
      return undefined;
    }
  }

  /** (Re)scores every tile received so far against the current annotations. */
  private rebuildScorer(): void {
    const session = this.session;
    if (!session || !this.annotations) return;
    // Annotations loaded before the slide was known were placed without its height: place them again.
    if (session.frame.origin === 'bottom-left' && this.annotationSource.getFeatures().length > 0) {
      this.annotationSource.getFeatures().forEach((feature, i) => {
        const polygon = this.annotations!.polygons[i];
        feature.setGeometry(new OlPolygon([session.frame.ringToMap(polygon.exterior), ...polygon.holes.map((h) => session.frame.ringToMap(h))]));
      });
    }
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

  private classifyPredictions(classes: { entries: PredictedGlomerulus[]; classes: string[]; truthClasses: string[] } | undefined): void {
    if (!classes) {
      this.predictionSource.getFeatures().forEach((feature) => feature.set('class', undefined, true));
      this.predictionSource.changed();
      return;
    }
    classes.entries.forEach((entry, i) => this.predictionSource.getFeatureById(entry.id)?.set('class', classes.classes[i], true));
    classes.truthClasses.forEach((cls, i) => this.annotationSource.getFeatureById(`a${i}`)?.set('class', cls, true));
    this.predictionSource.changed();
    this.annotationSource.changed();
  }

  private showError(error: unknown): void {
    this.error = error instanceof GlomsegError ? { code: error.code, message: error.message } : describeError(error, this.serverUrl);
    this.loading = false;
    this.dispatchEvent(glomsegEvent('glomseg-error', this.error));
  }

  // ---- rendering ----

  private onPickFile(event: Event): void {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) void this.loadAnnotations(file);
    input.value = '';
  }

  protected override render() {
    const { received, total, streaming, limited, polygons } = this.progress;
    const threshold = this.threshold || this.session?.model.card.threshold || 0.5;
    const statusText = this.loading
      ? 'Connecting…'
      : this.error && !streaming && received === 0
        ? 'Stopped'
      : !this.slide
        ? 'No slide'
        : streaming
          ? `Predicting ${received} / ${total} tiles`
          : total > 0
            ? `${received} / ${total} tiles`
            : 'Waiting for the map';
    return html`
      <div part="panel" @keydown=${stopKeysAtControls} @keyup=${stopKeysAtControls}>
        <h3>Glomerulus predictions</h3>
        <div part="status" data-streaming=${String(streaming)} data-received=${received} data-total=${total} data-polygons=${polygons}>
          <span>${statusText} · ${polygons} glomeruli</span>
          <progress max=${Math.max(1, total)} .value=${received}></progress>
        </div>
        ${limited ? html`<div class="muted">Zoom in to predict the rest of the view.</div>` : nothing}
        ${this.renderScaleNote()}
        ${this.error
          ? html`<div part="error" role="alert" data-code=${this.error.code}><strong>${errorTitle(this.error.code)}</strong>\n${this.error.message}</div>`
          : nothing}
        <div part="controls">
          <label>Threshold
            <input type="range" min="0.05" max="0.95" step="0.05" .value=${String(threshold)}
              @change=${(e: Event) => (this.threshold = Number((e.target as HTMLInputElement).value))} />
            <span>${threshold.toFixed(2)}</span>
          </label>
          <label>Opacity
            <input type="range" min="0" max="1" step="0.05" .value=${String(this.opacity)}
              @input=${(e: Event) => (this.opacity = Number((e.target as HTMLInputElement).value))} />
          </label>
          <div class="row">
            <label><input type="checkbox" .checked=${this.visible} @change=${(e: Event) => (this.visible = (e.target as HTMLInputElement).checked)} /> Predictions</label>
            <label><input type="checkbox" .checked=${this.annotationsVisible}
              @change=${(e: Event) => {
                this.annotationsVisible = (e.target as HTMLInputElement).checked;
                this.annotationLayer.setVisible(this.annotationsVisible);
              }} /> Annotations</label>
          </div>
        </div>
        <div part="annotations" class="row">
          <span>${this.annotations ? html`${this.annotations.name}: ${this.annotations.polygons.length} glomeruli` : html`<span class="muted">No annotations — drop a file on the map</span>`}</span>
          <button @click=${() => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click()}>Load…</button>
          ${this.annotations ? html`<button @click=${() => this.clearAnnotations()}>Clear</button>` : nothing}
          <input type="file" hidden accept=".json,.geojson,.csv" @change=${this.onPickFile} />
        </div>
        ${this.renderOffSlide()}
        ${this.renderSizes()}
        ${this.renderDice()}
        ${this.renderLegend()}
        <div class="row">
          <button part="export" ?disabled=${polygons === 0} @click=${() => this.downloadGeoJson()}>Export GeoJSON</button>
        </div>
      </div>
    `;
  }

  /** How large the glomeruli found are (um^2) and how many there are per mm^2 of the area predicted. */
  private renderSizes() {
    const session = this.session;
    const mpp = session?.model.grid.mppAssumed;
    if (!session || !mpp || session.store.size === 0) return nothing;
    const areas = areasUm2(session.store.polygons(), mpp);
    let areaPx = 0;
    for (const key of session.controller.received) {
      const [col, row] = key.split(',').map(Number);
      const bounds = tileBounds(session.model.grid, { col, row });
      areaPx += bounds.width * bounds.height;
    }
    const density = densityPerMm2(areas.length, areaPx, mpp);
    return html`<div part="sizes">
      <h3>Glomerulus sizes</h3>
      <div part="density" data-value=${density}>${density.toFixed(1)} glomeruli per mm² of the area predicted (${((areaPx * mpp * mpp) / 1e6).toFixed(2)} mm²)</div>
      <div part="histogram">${unsafeSVG(histogramSvg(sizeHistogram(areas), areas))}</div>
    </div>`;
  }

  /** Annotations that do not lie on the slide are shown, but not silently. */
  private renderOffSlide() {
    const slide = this.session?.slide;
    const off = this.annotations && slide ? annotationsOffSlide(this.annotations.polygons, slide.width, slide.height) : undefined;
    if (!off) return nothing;
    return html`<div part="annotations-warning" role="status">${off.outside} of ${off.total} annotations lie outside the ${slide!.width} × ${slide!.height} px slide: are they for another slide, or in other units than level-0 pixels?</div>`;
  }

  /** A slide read at an estimated or assumed pixel size says so, with what to do. */
  private renderScaleNote() {
    const grid = this.session?.model.grid;
    const note = grid ? scaleNote(grid) : '';
    return note ? html`<div part="scale-note" role="status" data-source=${grid!.mppSource}>${note}</div>` : nothing;
  }

  private renderDice() {
    const dice = this.dice;
    if (!dice) return nothing;
    return html`
      <div part="dice">
        <h3>Dice (${dice.tilesScored} / ${dice.tilesTotal} tiles)</h3>
        <table>
          <tr><td>Global Dice</td><td part="dice-global" data-value=${dice.globalDice}>${formatScore(dice.globalDice)}</td></tr>
          <tr title="Dice of each ${dice.diceTileWidth} × ${dice.diceTileHeight} px square of the slide, averaged (a square with neither prediction nor ground truth counts 1), as in the HuBMAP Kaggle competition"><td>Mean Dice per ${dice.diceTileWidth} × ${dice.diceTileHeight} px square (${dice.diceTiles} squares)</td><td part="dice-mean-tile" data-value=${dice.meanTileDice}>${formatScore(dice.meanTileDice)}</td></tr>
          <tr><td>Precision</td><td part="dice-precision" data-value=${dice.precision}>${formatScore(dice.precision)}</td></tr>
          <tr><td>Recall</td><td part="dice-recall" data-value=${dice.recall}>${formatScore(dice.recall)}</td></tr>
          <tr><td>F1 (IoU ≥ 0.5)</td><td part="dice-f1" data-value=${dice.f1}>${formatScore(dice.f1)}</td></tr>
        </table>
      </div>
    `;
  }

  /** Every colour and line style on the map, always shown; match counts once scored. */
  private renderLegend() {
    const dice = this.dice;
    const counts: Partial<Record<FeatureClass, number>> = dice
      ? { 'true-positive': dice.truePositives, 'false-positive': dice.falsePositives, missed: dice.falseNegatives }
      : {};
    return html`
      <ul part="legend" class="legend">
        ${LEGEND.map(
          (entry) => html`<li data-class=${entry.cls} class=${entry.scored && !this.annotations ? 'muted' : ''}>
            <span class="swatch" style="border: 2px ${entry.dashed ? 'dashed' : 'solid'} ${CLASS_COLOURS[entry.cls]}; background: ${entry.filled ? `${CLASS_COLOURS[entry.cls]}55` : 'transparent'}"></span>${entry.label}${counts[entry.cls] !== undefined ? html` <strong>${counts[entry.cls]}</strong>` : nothing}
          </li>`,
        )}
      </ul>
    `;
  }
}

/**
 * Keys pressed in the panel's sliders, boxes and buttons are theirs: a map's keyboard pan and zoom (OpenLayers
 * listens on the shadow host, where the event's target reads as the host, not an input) must not see them.
 */
function stopKeysAtControls(event: KeyboardEvent): void {
  const target = event.composedPath()[0] as HTMLElement | undefined;
  if (target && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName)) event.stopPropagation();
}

function errorTitle(code: string): string {
  switch (code) {
    case 'UNAVAILABLE':
      return 'Server unreachable';
    case 'NOT_FOUND':
      return 'Not found';
    case 'FAILED_PRECONDITION':
    case 'UNIMPLEMENTED':
      return 'Unsupported slide';
    case 'INVALID_ARGUMENT':
      return 'Invalid input';
    default:
      return 'Error';
  }
}
