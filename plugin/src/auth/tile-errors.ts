/**
 * Slide image tiles that fail to load, made visible: a map whose tiles all answer 401 used to show the polygons on a
 * white page with no word of why. Watches every tile layer of the map (the viewer's and a portal's own) and reports
 * the first failure after a load, once, until a tile loads again.
 */
import type OlMap from 'ol/Map.js';
import type BaseLayer from 'ol/layer/Base.js';
import TileLayer from 'ol/layer/Tile.js';
import type { EventsKey } from 'ol/events.js';
import { unByKey } from 'ol/Observable.js';
import type { TileSourceEvent } from 'ol/source/Tile.js';
import { tileFailure, type TileFailure } from './tile-loader.js';

/** A tile source of the portal's own, without our loader, says only that the image failed. */
const UNKNOWN_FAILURE: TileFailure = {
  code: 'UNAVAILABLE',
  reason:
    "the image did not load; a tile server that needs a token needs tileLoaderWithHeaders as the source's tileLoadFunction",
};

export class TileErrorWatch {
  private keys: EventsKey[] = [];
  private failing = false;

  /** `onFailure` once per failing spell; `onRecovered()` when a tile loads after one. */
  constructor(private readonly hooks: { onFailure(failure: TileFailure): void; onRecovered(): void }) {}

  attach(map: OlMap): void {
    this.detach();
    const layers = map.getLayers();
    const watchAll = () => {
      unByKey(this.keys.splice(1));
      for (const layer of map.getAllLayers()) this.watch(layer);
    };
    this.keys.push(layers.on('change:length', watchAll));
    watchAll();
  }

  detach(): void {
    unByKey(this.keys);
    this.keys = [];
    this.failing = false;
  }

  private watch(layer: BaseLayer): void {
    if (!(layer instanceof TileLayer)) return;
    const source = layer.getSource();
    if (!source) return;
    this.keys.push(
      source.on('tileloaderror', (event: TileSourceEvent) => {
        if (this.failing) return;
        this.failing = true;
        const failure = tileFailure(event.tile) ?? UNKNOWN_FAILURE;
        this.hooks.onFailure({
          code: failure.code,
          reason: `The slide's image tiles do not load (${failure.reason}).`,
        });
      }),
      source.on('tileloadend', () => {
        if (!this.failing) return;
        this.failing = false;
        this.hooks.onRecovered();
      }),
    );
  }
}
