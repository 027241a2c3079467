/**
 * The probability heatmap: the model's probability of glomerulus at each pixel, from the PNG each tile brings
 * (TileOutcome.probabilityPng, the probabilities the server cut the polygons from), coloured on the viridis scale
 * (probability-scale.ts) and transparent under HEATMAP_FLOOR, as one canvas layer under the predictions' outlines with
 * its own opacity. It follows the prediction layer's session and tiles (PredictionLayer.watch): a new session clears
 * it, a tile that arrives again (a new threshold) replaces its raster.
 *
 * Memory stays bounded: the PNGs (a few KB a tile) are kept for the session, the coloured rasters (64 KB a tile) for
 * the MAX_RASTERS tiles drawn last; a tile scrolled back into view is coloured again from its PNG.
 */
import type OlMap from 'ol/Map.js';
import ImageLayer from 'ol/layer/Image.js';
import ImageCanvasSource from 'ol/source/ImageCanvas.js';
import { intersects, type Extent } from 'ol/extent.js';
import { tileKey } from '@glomseg/shared/tile-grid.js';
import { heatmapPalette } from '../probability-scale.js';
import type { ReceivedTile } from '../tile-stream.js';
import type { PredictionLayer, PredictionSession } from './prediction-layer.js';

/** Coloured rasters kept at once: a 4K screen of 256-pixel model tiles is about 150. */
const MAX_RASTERS = 384;

interface TileHeatmap {
  extent: Extent;
  png: Uint8Array;
  raster?: HTMLCanvasElement;
  decoding?: boolean;
}

export class ProbabilityLayer {
  readonly layer: ImageLayer<ImageCanvasSource>;
  private readonly source: ImageCanvasSource;
  private readonly palette = heatmapPalette();
  private readonly tiles = new Map<string, TileHeatmap>();
  /** Keys of the tiles whose raster is kept, least recently drawn first. */
  private readonly coloured = new Set<string>();
  /** Bumped by each new session: a raster decoded for an older one is dropped. */
  private generation = 0;
  private readonly unwatch: () => void;
  private map?: OlMap;

  /** `predictions`: the layer whose tiles it follows (PredictionLayer, or anything that tells the same). */
  constructor(predictions: Pick<PredictionLayer, 'watch'>, opacity = 0.7) {
    this.source = new ImageCanvasSource({
      canvasFunction: (extent, _resolution, _pixelRatio, size) => this.draw(extent, size),
      ratio: 1,
    });
    this.layer = new ImageLayer({
      source: this.source,
      opacity,
      visible: false,
      zIndex: 18,
      properties: { name: 'glomseg-probability' },
    });
    this.unwatch = predictions.watch({
      onSession: () => this.clear(),
      onTile: (result, session) => this.add(result, session),
    });
  }

  get attachedMap(): OlMap | undefined {
    return this.map;
  }

  /** Tiles with a heatmap in this session, and those whose coloured raster is kept (for tests and the UI). */
  get counts(): { tiles: number; rasters: number } {
    return { tiles: this.tiles.size, rasters: this.coloured.size };
  }

  attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addLayer(this.layer);
  }

  detach(): void {
    this.map?.removeLayer(this.layer);
    this.map = undefined;
  }

  /** Stops following the predictions and leaves the map. */
  dispose(): void {
    this.unwatch();
    this.detach();
    this.clear();
  }

  private clear(): void {
    this.generation++;
    this.tiles.clear();
    this.coloured.clear();
    this.source.changed();
  }

  private add(result: ReceivedTile, session: PredictionSession): void {
    if (!result.probabilityPng) return;
    const key = tileKey(result.tile);
    this.coloured.delete(key);
    this.tiles.set(key, { extent: session.frame.mapExtentOf(result.bounds), png: result.probabilityPng });
    this.source.changed();
  }

  /** The view's canvas: each kept raster in its tile's place; tiles in view without one are coloured, then drawn. */
  private draw(extent: Extent, size: number[]): HTMLCanvasElement {
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = size;
    const context = canvas.getContext('2d')!;
    const scale = size[0] / (extent[2] - extent[0]);
    for (const [key, tile] of this.tiles) {
      if (!intersects(tile.extent, extent)) continue;
      if (!tile.raster) {
        void this.colour(key, tile);
        continue;
      }
      this.coloured.delete(key);
      this.coloured.add(key);
      const [minX, minY, maxX, maxY] = tile.extent;
      context.drawImage(
        tile.raster,
        (minX - extent[0]) * scale,
        (extent[3] - maxY) * scale,
        (maxX - minX) * scale,
        (maxY - minY) * scale,
      );
    }
    return canvas;
  }

  /** Decodes a tile's PNG and colours its grey levels with the palette; the layer is drawn again when done. */
  private async colour(key: string, tile: TileHeatmap): Promise<void> {
    if (tile.decoding) return;
    tile.decoding = true;
    const generation = this.generation;
    const bitmap = await createImageBitmap(new Blob([tile.png as Uint8Array<ArrayBuffer>], { type: 'image/png' }), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
    tile.decoding = false;
    if (generation !== this.generation || this.tiles.get(key) !== tile) return bitmap.close();
    const raster = document.createElement('canvas');
    [raster.width, raster.height] = [bitmap.width, bitmap.height];
    const context = raster.getContext('2d', { willReadFrequently: true })!;
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
    const pixels = context.getImageData(0, 0, raster.width, raster.height);
    const { data } = pixels;
    for (let i = 0; i < data.length; i += 4) {
      const entry = data[i] * 4; // grey: red, green and blue hold the same level
      data[i] = this.palette[entry];
      data[i + 1] = this.palette[entry + 1];
      data[i + 2] = this.palette[entry + 2];
      data[i + 3] = this.palette[entry + 3];
    }
    context.putImageData(pixels, 0, 0);
    tile.raster = raster;
    this.coloured.add(key);
    for (const oldest of this.coloured) {
      if (this.coloured.size <= MAX_RASTERS) break;
      this.coloured.delete(oldest);
      const dropped = this.tiles.get(oldest);
      if (dropped) dropped.raster = undefined;
    }
    this.source.changed();
  }
}
