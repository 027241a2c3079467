/**
 * The predictions on a portal's OpenLayers map, without any panel: asks the glomseg server (gRPC-Web) for exactly
 * the model tiles the view covers, centre first, and draws each tile's glomeruli as they arrive. A session is keyed
 * on server, slide, model and scale; a new threshold alone cuts again without a new session or an empty map.
 * Used by <glomseg-overlay>; a portal can use it on its own: `new PredictionLayer(events)`, `attach(map)`,
 * `configure(settings)`, `detach()`.
 */
import type OlMap from 'ol/Map.js';
import type View from 'ol/View.js';
import Feature from 'ol/Feature.js';
import OlPolygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import OlOverlay from 'ol/Overlay.js';
import type MapBrowserEvent from 'ol/MapBrowserEvent.js';
import { unByKey } from 'ol/Observable.js';
import { getForViewAndSize } from 'ol/extent.js';
import type { EventsKey } from 'ol/events.js';
import type { Rect } from '@glomseg/shared/geometry.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import { minAreaOnSlide, tileKey, type TileAddress } from '@glomseg/shared/tile-grid.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { glomsegClient, type RequestHeaders } from '../glomseg-client.js';
import type { ModelSummary } from '@glomseg/shared/glomseg-service.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import { modelFromProto, slideInfoFromProto, tileOutcomesFromProto } from '@glomseg/api/from-proto.js';
import { listModelsRequestToProto, streamTilesRequestToProto } from '@glomseg/api/to-proto.js';
import { TileStreamController, type ReceivedTile, type TileStreamState } from '../tile-stream.js';
import { PredictionStore, type PredictedGlomerulus } from '../prediction-store.js';
import { SlideFrame, type PixelOrigin } from '../slide-frame.js';
import { predictionStyle } from '../feature-styles.js';

/** Starts a new stream this long after the view stops changing, if OpenLayers' moveend has not come first. */
const VIEW_SETTLE_MS = 200;

export interface PredictionSettings {
  serverUrl: string;
  headers?: RequestHeaders;
  slide: string;
  model: string;
  /** 0: the model card's. */
  threshold: number;
  /** 0: the file's pixel size (or the server's estimate). */
  mppOverride: number;
  pixelOrigin: PixelOrigin;
  maxTiles: number;
}

/** A model with its tile grid on the session's slide. */
export type ModelOnSlide = ModelSummary & { grid: TileGrid };

export interface PredictionSession {
  abort: AbortController;
  slide: SlideMetadata;
  model: ModelOnSlide;
  frame: SlideFrame;
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
  onTile?(result: ReceivedTile, session: PredictionSession): void;
  onState?(state: TileStreamState, session: PredictionSession): void;
  onError?(error: unknown): void;
  onLoading?(loading: boolean): void;
}

const SESSION_KEYS: Array<keyof PredictionSettings> = ['serverUrl', 'headers', 'slide', 'model', 'mppOverride', 'pixelOrigin', 'maxTiles'];

export class PredictionLayer {
  readonly source = new VectorSource<Feature<OlPolygon>>();
  readonly layer = new VectorLayer({ source: this.source, style: predictionStyle, zIndex: 20, properties: { name: 'glomseg-predictions' } });
  session?: PredictionSession;
  private settings?: PredictionSettings;
  private map?: OlMap;
  private mapKeys: EventsKey[] = [];
  private viewKeys: EventsKey[] = [];
  private settleTimer?: ReturnType<typeof setTimeout>;
  /** Cuts made (sessions and threshold changes): part of every feature id. */
  private cuts = 0;
  /** The measurements of the polygon under the pointer (or last clicked), on the map. */
  private readonly tooltipElement = Object.assign(document.createElement('div'), { className: 'glomseg-measurements' });
  private readonly tooltip = new OlOverlay({ element: this.tooltipElement, offset: [12, 12], positioning: 'top-left', stopEvent: false });

  constructor(private readonly events: PredictionLayerEvents = {}) {
    Object.assign(this.tooltipElement.style, {
      background: 'rgba(20, 20, 20, 0.85)', color: '#fff', font: '12px/1.4 system-ui, sans-serif', padding: '4px 8px',
      borderRadius: '4px', pointerEvents: 'none', whiteSpace: 'nowrap', display: 'none',
    });
  }

  get attachedMap(): OlMap | undefined {
    return this.map;
  }

  attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addLayer(this.layer);
    map.addOverlay(this.tooltip);
    this.mapKeys = [
      map.on('pointermove', (event) => this.showMeasurements(event)),
      map.on('singleclick', (event) => this.showMeasurements(event)),
      map.on('moveend', () => this.onViewSettled()),
      map.on('change:view', () => this.bindView()),
      map.on('change:size', () => this.onViewSettled()),
    ];
    this.bindView();
  }

  detach(): void {
    const map = this.map;
    if (!map) return;
    unByKey(this.mapKeys);
    unByKey(this.viewKeys);
    this.mapKeys = [];
    this.viewKeys = [];
    map.removeLayer(this.layer);
    map.removeOverlay(this.tooltip);
    this.map = undefined;
  }

  /** New settings: a new session when server, slide, model or scale changed; a new cut when only the threshold did. */
  configure(settings: PredictionSettings): void {
    const previous = this.settings;
    this.settings = { ...settings };
    if (!previous || !this.session || SESSION_KEYS.some((key) => previous[key] !== settings[key])) void this.startSession();
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

  entries(): PredictedGlomerulus[] {
    return this.session?.store.all() ?? [];
  }

  private bindView(): void {
    unByKey(this.viewKeys);
    const view: View | undefined = this.map?.getView();
    this.viewKeys = view ? [view.on('change:center', () => this.onViewChanging()), view.on('change:resolution', () => this.onViewChanging())] : [];
    this.onViewSettled();
  }

  private endSession(): void {
    clearTimeout(this.settleTimer);
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    session.abort.abort();
    session.controller.dispose();
    this.source.clear();
    this.events.onSession?.(undefined);
  }

  private async startSession(): Promise<void> {
    this.endSession();
    const settings = this.settings;
    if (!this.map || !settings?.slide) return;
    const abort = new AbortController();
    const { signal } = abort;
    const slideId = settings.slide;
    const client = glomsegClient(settings.serverUrl, settings.headers);
    this.events.onLoading?.(true);
    try {
      const [info, models] = await Promise.all([
        client.getSlideInfo({ slideId }, { signal }),
        client.listModels(listModelsRequestToProto({ slideId, mppOverride: settings.mppOverride || undefined }), { signal }),
      ]);
      if (signal.aborted) return;
      const slide = slideInfoFromProto(info);
      const chosen = settings.model ? models.models.find((m) => m.id === settings.model) : models.models[0];
      if (!chosen) {
        const available = models.models.map((m) => m.id).join(', ') || 'none';
        throw new GlomsegError('NOT_FOUND', settings.model ? `the server has no model '${settings.model}' (available: ${available})` : 'the server has no models');
      }
      const { grid, ...summary } = modelFromProto(chosen);
      if (!grid) throw new GlomsegError('INTERNAL', `the server sent no tile grid for model ${chosen.id} on slide ${slideId}`);
      const model: ModelOnSlide = { ...summary, grid };
      this.session = { abort, slide, model, frame: new SlideFrame(slide.width, slide.height, settings.pixelOrigin), tissue: new Map(), ...this.cutAt(slideId, model) };
      this.events.onSession?.(this.session);
      this.onViewSettled();
    } catch (error) {
      if (!signal.aborted) this.events.onError?.(error);
    } finally {
      if (!signal.aborted) this.events.onLoading?.(false);
    }
  }

  /** A store and stream for the current threshold; ids carry the cut's number, so two cuts' features never clash. */
  private cutAt(slideId: string, model: ModelOnSlide): Pick<PredictionSession, 'controller' | 'store'> {
    const { threshold, mppOverride, maxTiles } = this.settings!;
    const store = new PredictionStore(minAreaOnSlide(model.card, model.grid), `c${++this.cuts}:`);
    const controller = new TileStreamController({
      grid: model.grid,
      maxTiles,
      source: (tiles, streamSignal) => this.streamTiles({ slideId, modelId: model.card.id, threshold, mppOverride }, tiles, streamSignal),
      onTile: (tile) => this.onTile(tile),
      onState: (streamState) => this.session && this.events.onState?.(streamState, this.session),
      onError: (error) => this.events.onError?.(error),
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
    for (const feature of this.source.getFeatures()) feature.set('stale', true, true);
    Object.assign(session, this.cutAt(session.slide.id, session.model));
    this.events.onCut?.(session);
    this.onViewSettled();
  }

  /** Drops the previous cut's features on a tile (or all of them) once the new cut has it. */
  dropStale(bounds?: Rect): void {
    const session = this.session;
    if (!session) return;
    const candidates = bounds ? this.source.getFeaturesInExtent(session.frame.mapExtentOf(bounds)) : this.source.getFeatures();
    const stale = candidates.filter((feature) => feature.get('stale'));
    if (stale.length > 0) this.source.removeFeatures(stale);
  }

  private async *streamTiles(
    request: { slideId: string; modelId: string; threshold: number; mppOverride: number },
    tiles: TileAddress[],
    signal: AbortSignal,
  ): AsyncIterable<ReceivedTile> {
    const client = glomsegClient(this.settings!.serverUrl, this.settings!.headers);
    const { slideId, modelId, threshold, mppOverride } = request;
    const wire = streamTilesRequestToProto({ slideId, modelId, tiles, threshold: threshold || undefined, mppOverride: mppOverride || undefined });
    yield* tileOutcomesFromProto(client.streamTiles(wire, { signal }));
  }

  private currentViewRect() {
    const map = this.map;
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
    const map = this.map;
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
    session.tissue.set(tileKey(result.tile), result.bounds.width * result.bounds.height * (result.tissueFraction ?? 0));
    const change = session.store.addTile(result);
    for (const id of change.removedIds) {
      const feature = this.source.getFeatureById(id);
      if (feature) this.source.removeFeature(feature);
    }
    this.source.addFeatures(change.added.map((entry) => toFeature(entry, session.frame)));
    this.events.onTile?.(result, session);
  }

  /** Area, mean probability and match class of the prediction under the pointer. */
  private showMeasurements(event: MapBrowserEvent<PointerEvent | KeyboardEvent | WheelEvent>): void {
    if (event.dragging) return;
    const mpp = this.session?.model.grid.mppAssumed;
    const feature = this.layer.getVisible()
      ? event.map.forEachFeatureAtPixel(event.pixel, (f) => f, { layerFilter: (layer) => layer === this.layer, hitTolerance: 2 })
      : undefined;
    if (!feature) {
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
