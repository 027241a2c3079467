/**
 * How the prediction layer's VectorSource loads model tiles, the OpenLayers way. Its loading strategy is
 * ol/loadingstrategy's `tile` over an ol/tilegrid TileGrid made from the server's model grid (a tile extent per
 * model tile the view meets on the slide, centre first, at most `maxTiles`); its loader hands every extent the
 * source has not loaded yet to the tile stream, and resolves when that tile arrives. OpenLayers calls both for every
 * frame that shows a new extent (the layer updates while animating and interacting, see PredictionLayer); once the
 * frame's loads are in, the stream follows the view as it moves (see TileStreamController), and once more when the
 * map comes to rest (moveend). No settle timer, and nothing read from OpenLayers' private state.
 */
import type Feature from 'ol/Feature.js';
import type OlPolygon from 'ol/geom/Polygon.js';
import OlTileGrid from 'ol/tilegrid/TileGrid.js';
import { tile as tileStrategy } from 'ol/loadingstrategy.js';
import { getCenter, getIntersection, isEmpty, type Extent } from 'ol/extent.js';
import type Projection from 'ol/proj/Projection.js';
import VectorSource from 'ol/source/Vector.js';
import { orderCentreFirst, tileKey, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { TileStreamController, type TileStreamOptions, type ViewMotion, type ViewTiles } from '../tile-stream.js';
import type { SlideFrame } from '../slide-frame.js';

interface TileRequest {
  extent: Extent;
  resolve(features: Feature<OlPolygon>[]): void;
  reject(error: Error): void;
}

export class ModelTileLoading {
  readonly controller: TileStreamController;
  private readonly tileGrid: OlTileGrid;
  private readonly tilesOf: (extent: Extent, resolution: number, projection: Projection) => Extent[];
  private shown: ViewTiles = { tiles: [], limited: false };
  /** Loads asked for and not answered yet. */
  private readonly requests = new Map<string, TileRequest>();
  /** Every extent the source was asked to load: marked not loaded again when this cut ends. */
  private readonly handedOut: Extent[] = [];

  constructor(
    private readonly grid: TileGrid,
    private readonly frame: SlideFrame,
    private readonly maxTiles: number,
    stream: TileStreamOptions,
  ) {
    // The slide's top-left corner is the grid's origin (the extent's top-left in either pixel origin); tile rows
    // go down the slide as OpenLayers' tile rows do.
    this.tileGrid = new OlTileGrid({
      extent: frame.mapExtent(),
      resolutions: [grid.tileSizeLevel0 / grid.tileSize],
      tileSize: grid.tileSize,
    });
    this.tilesOf = tileStrategy(this.tileGrid);
    this.controller = new TileStreamController({
      ...stream,
      onTile: (result) => {
        const key = tileKey(result.tile);
        this.requests.get(key)?.resolve([]);
        this.requests.delete(key);
        stream.onTile(result);
      },
    });
  }

  /** The loading strategy: the extents of the model tiles the view meets, centre first. */
  strategy(extent: Extent, resolution: number, projection: Projection): Extent[] {
    const onSlide = getIntersection(extent, this.frame.mapExtent());
    const rect = isEmpty(onSlide) ? undefined : this.frame.viewRect(onSlide);
    if (!rect) {
      this.shown = { tiles: [], limited: false };
      return [];
    }
    // Row by row before ordering, so tiles equally far from the centre keep the slide's reading order.
    const all = this.tilesOf(onSlide, resolution, projection)
      .map((tileExtent) => this.tileAt(tileExtent))
      .sort((a, b) => a.row - b.row || a.col - b.col);
    const tiles = orderCentreFirst(this.grid, all, { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 }).slice(
      0,
      this.maxTiles,
    );
    this.shown = { tiles, limited: all.length > this.maxTiles };
    return tiles.map((tile) => this.tileGrid.getTileCoordExtent([0, tile.col, tile.row]));
  }

  /** The loader: the source has not loaded this tile's extent; it resolves (with no features of its own) on arrival. */
  load(extent: Extent): Promise<Feature<OlPolygon>[]> {
    const tile = this.tileAt(extent);
    this.handedOut.push(extent);
    this.controller.request(tile);
    return new Promise((resolve, reject) => this.requests.set(tileKey(tile), { extent, resolve, reject }));
  }

  /** The tiles the last frame showed. */
  get view(): ViewTiles {
    return this.shown;
  }

  /** A frame's loads are in (or the map came to rest): the stream follows the view. */
  followView(motion: ViewMotion): void {
    this.controller.setView(this.shown, motion);
  }

  /** Starts from another cut's view: its progress counts from none of them at once, not from the next frame. */
  continueFrom(view: ViewTiles): void {
    this.shown = view;
    this.controller.setView(view, 'dragged');
  }

  /** Ends this cut: its loads fail, and every extent it was handed is marked not loaded for the next cut. */
  dispose(source: VectorSource<Feature<OlPolygon>>): void {
    this.controller.dispose();
    for (const extent of this.handedOut) source.removeLoadedExtent(extent);
    this.handedOut.length = 0;
    const cancelled = new Error('the prediction cut ended');
    for (const request of this.requests.values()) request.reject(cancelled);
    this.requests.clear();
  }

  private tileAt(extent: Extent): TileAddress {
    const [, col, row] = this.tileGrid.getTileCoordForCoordAndZ(getCenter(extent), 0);
    return { col, row };
  }
}

/**
 * The prediction layer's source: loads through the current cut's ModelTileLoading (none: nothing to load), and after
 * each frame's loads lets the stream follow the view as it moves (`motion`: from the view's public hints).
 */
export class ModelTileSource extends VectorSource<Feature<OlPolygon>> {
  constructor(
    private readonly current: () => ModelTileLoading | undefined,
    private readonly motion: () => ViewMotion,
  ) {
    super({
      strategy: (extent, resolution, projection) => current()?.strategy(extent, resolution, projection) ?? [],
      loader: (extent) => current()?.load(extent) ?? Promise.resolve([]),
    });
  }

  override loadFeatures(extent: Extent, resolution: number, projection: Projection): void {
    super.loadFeatures(extent, resolution, projection);
    this.current()?.followView(this.motion());
  }
}
