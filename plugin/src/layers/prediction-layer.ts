/**
 * The predictions on a portal's OpenLayers map, without any panel: asks the glomseg server (gRPC-Web) for exactly
 * the model tiles the view covers, centre first, and draws each tile's glomeruli as they arrive. A session is keyed
 * on server, slide, model and scale; a new threshold alone cuts again without a new session or an empty map.
 * Loading is OpenLayers' own (see ModelTileLoading): the layer's VectorSource has a tile loading strategy on the
 * model grid and a loader that streams. Used by <glomseg-overlay>; a portal can use it on its own:
 * `new PredictionLayer(events)`, `attach(map)`, `configure(settings)`, `detach()`.
 */
import type OlMap from 'ol/Map.js';
import Feature from 'ol/Feature.js';
import OlPolygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import { unByKey } from 'ol/Observable.js';
import type { EventsKey } from 'ol/events.js';
import type { Rect } from '@glomseg/shared/geometry.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import { minAreaOnSlide, tileKey } from '@glomseg/shared/tile-grid.js';
import type { ReceivedTile, TileStreamController, TileStreamState } from '../tile-stream.js';
import { PredictionStore, type PredictedGlomerulus, type PredictionChange } from '../prediction-store.js';
import { SlideFrame } from '../slide-frame.js';
import { predictionStyle } from '../feature-styles.js';
import { ModelTileLoading, ModelTileSource } from './model-tile-loading.js';
import { MeasurementTooltip } from './measurement-tooltip.js';
import {
  modelTileStream,
  openSlideAndModel,
  type ModelOnSlide,
  type PredictionSettings,
} from './prediction-session.js';

export type { ModelOnSlide, PredictionSettings } from './prediction-session.js';

export interface PredictionSession {
  abort: AbortController;
  slide: SlideMetadata;
  model: ModelOnSlide;
  frame: SlideFrame;
  /** The current cut's loading and stream. */
  loading: ModelTileLoading;
  controller: TileStreamController;
  store: PredictionStore;
  /** Level-0 square pixels of tissue per tile received (whatever the threshold). */
  tissue: Map<string, number>;
}

export interface PredictionLayerEvents {
  /** A session started (slide and model known) or ended (undefined). */
  onSession?(session: PredictionSession | undefined): void;
  /** A new cut began on the same session (threshold change). */
  onCut?(session: PredictionSession): void;
  /** A tile arrived; `change`: the glomeruli it drew and those it took away (joined again across its borders). */
  onTile?(result: ReceivedTile, session: PredictionSession, change: PredictionChange): void;
  onState?(state: TileStreamState, session: PredictionSession): void;
  onError?(error: unknown): void;
  onLoading?(loading: boolean): void;
}

/** What another layer over the same predictions follows (ProbabilityLayer): sessions and the tiles as they arrive. */
export type PredictionWatcher = Pick<PredictionLayerEvents, 'onSession' | 'onTile'>;

const SESSION_KEYS: Array<keyof PredictionSettings> = [
  'serverUrl',
  'headers',
  'slide',
  'model',
  'mppOverride',
  'pixelOrigin',
  'maxTiles',
];

export class PredictionLayer {
  session?: PredictionSession;
  readonly source = new ModelTileSource(
    () => this.session?.loading,
    () => {
      const view = this.map?.getView();
      return view?.getInteracting() ? 'dragged' : view?.getAnimating() ? 'animated' : 'still';
    },
  );
  /** Updated while animating and interacting: every frame's extent reaches the loading strategy (see ModelTileLoading). */
  readonly layer = new VectorLayer({
    source: this.source,
    style: (feature) => (this.shownNow ? predictionStyle(feature, { outline: this.outlineNow }) : undefined),
    zIndex: 20,
    renderBuffer: 0,
    updateWhileAnimating: true,
    updateWhileInteracting: true,
    properties: { name: 'glomseg-predictions' },
  });
  private settings?: PredictionSettings;
  private map?: OlMap;
  private mapKeys: EventsKey[] = [];
  private shownNow = true;
  private outlineNow = false;
  /** Cuts made (sessions and threshold changes): part of every feature id. */
  private cuts = 0;
  private readonly watchers = new Set<PredictionWatcher>();
  private readonly tooltip = new MeasurementTooltip(
    this.layer,
    () => this.session?.model.grid.mppAssumed,
    () => this.shownNow,
  );

  constructor(private readonly events: PredictionLayerEvents = {}) {}

  get attachedMap(): OlMap | undefined {
    return this.map;
  }

  /** Whether the polygons are drawn. Hidden, they still stream and score (unlike `layer.setVisible(false)`). */
  get shown(): boolean {
    return this.shownNow;
  }

  set shown(shown: boolean) {
    this.shownNow = shown;
    this.layer.changed();
  }

  /** Whether the polygons are drawn as outlines only (no fill over the tissue). */
  get outline(): boolean {
    return this.outlineNow;
  }

  set outline(outline: boolean) {
    this.outlineNow = outline;
    this.layer.changed();
  }

  attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addLayer(this.layer);
    this.tooltip.attach(map);
    // At rest: the last frame's view streams (a drag's frames only stopped what left the view).
    this.mapKeys = [map.on('moveend', () => this.session?.loading.followView('still'))];
  }

  detach(): void {
    const map = this.map;
    if (!map) return;
    unByKey(this.mapKeys);
    this.mapKeys = [];
    map.removeLayer(this.layer);
    this.tooltip.detach();
    this.map = undefined;
  }

  /** New settings: a new session when server, slide, model or scale changed; a new cut when only the threshold did. */
  configure(settings: PredictionSettings): void {
    const previous = this.settings;
    this.settings = { ...settings };
    if (!previous || !this.session || SESSION_KEYS.some((key) => previous[key] !== settings[key]))
      void this.startSession();
    else if (previous.threshold !== settings.threshold) this.recut();
  }

  /** Drops what was received and asks again for the current view. */
  refresh(): void {
    void this.startSession();
  }

  /** Ends the session and takes the layer off the map. */
  dispose(): void {
    this.endSession();
    this.detach();
  }

  /** Tells `watcher` of each session and tile from now on, beside the constructor's events; returns how to stop. */
  watch(watcher: PredictionWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  entries(): PredictedGlomerulus[] {
    return this.session?.store.all() ?? [];
  }

  /** Drops the previous cut's features on a tile (or all of them) once the new cut has it. */
  dropStale(bounds?: Rect): void {
    const session = this.session;
    if (!session) return;
    const candidates = bounds
      ? this.source.getFeaturesInExtent(session.frame.mapExtentOf(bounds))
      : this.source.getFeatures();
    const stale = candidates.filter((feature) => feature.get('stale'));
    if (stale.length > 0) this.source.removeFeatures(stale);
  }

  private endSession(): void {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    session.abort.abort();
    this.source.clear();
    session.loading.dispose(this.source);
    for (const told of [this.events, ...this.watchers]) told.onSession?.(undefined);
  }

  private async startSession(): Promise<void> {
    this.endSession();
    const settings = this.settings;
    if (!this.map || !settings?.slide) return;
    const abort = new AbortController();
    const { signal } = abort;
    this.events.onLoading?.(true);
    try {
      const { slide, model } = await openSlideAndModel(settings, signal);
      if (signal.aborted) return;
      const frame = new SlideFrame(slide.width, slide.height, settings.pixelOrigin);
      this.session = { abort, slide, model, frame, tissue: new Map(), ...this.cutAt(model, frame) };
      for (const told of [this.events, ...this.watchers]) told.onSession?.(this.session);
      this.source.changed(); // a frame for the new session: OpenLayers asks its strategy for the view's tiles
    } catch (error) {
      if (!signal.aborted) this.events.onError?.(error);
    } finally {
      if (!signal.aborted) this.events.onLoading?.(false);
    }
  }

  /** A store and loading for the current threshold; ids carry the cut's number, so two cuts' features never clash. */
  private cutAt(model: ModelOnSlide, frame: SlideFrame): Pick<PredictionSession, 'loading' | 'controller' | 'store'> {
    const settings = this.settings!;
    const store = new PredictionStore(minAreaOnSlide(model.card, model.grid), `c${++this.cuts}:`);
    const loading = new ModelTileLoading(model.grid, frame, settings.maxTiles, {
      grid: model.grid,
      source: modelTileStream(settings, model.card.id),
      onTile: (tile) => this.onTile(tile),
      onState: (streamState) => this.session && this.events.onState?.(streamState, this.session),
      onError: (error) => this.events.onError?.(error),
    });
    return { loading, controller: loading.controller, store };
  }

  /**
   * A new threshold on the same server, slide, model and scale: no new session. The polygons drawn stay until the
   * tile they lie on arrives at the new cut (the server re-cuts its kept probabilities, so that is quick).
   */
  private recut(): void {
    const session = this.session;
    if (!session) return void this.startSession();
    const { view } = session.loading;
    session.loading.dispose(this.source);
    for (const feature of this.source.getFeatures()) feature.set('stale', true, true);
    Object.assign(session, this.cutAt(session.model, session.frame));
    this.events.onCut?.(session);
    session.loading.continueFrom(view);
    this.source.changed();
  }

  private onTile(result: ReceivedTile): void {
    const session = this.session;
    if (!session) return;
    this.dropStale(result.bounds);
    // The server's measure of the tile's tissue (its tissue map), which its ScoreSlide sums too: one figure per mm².
    session.tissue.set(tileKey(result.tile), result.tissueArea ?? 0);
    const change = session.store.addTile(result);
    for (const { id } of change.removed) {
      const feature = this.source.getFeatureById(id);
      if (feature) this.source.removeFeature(feature);
    }
    this.source.addFeatures(change.added.map((entry) => toFeature(entry, session.frame)));
    for (const told of [this.events, ...this.watchers]) told.onTile?.(result, session, change);
  }
}

function toFeature(entry: PredictedGlomerulus, frame: SlideFrame): Feature<OlPolygon> {
  const { polygon } = entry;
  const feature = new Feature({
    geometry: new OlPolygon([frame.ringToMap(polygon.exterior), ...polygon.holes.map((hole) => frame.ringToMap(hole))]),
    area: polygon.area,
    meanProbability: polygon.meanProbability,
  });
  feature.setId(entry.id);
  return feature;
}
