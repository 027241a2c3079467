/** An OpenLayers tile source for a slide's pyramid as the glomseg server serves it (one URL per native tile). */
import Projection from 'ol/proj/Projection.js';
import TileGrid from 'ol/tilegrid/TileGrid.js';
import TileImage from 'ol/source/TileImage.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import { VIEWER_TILE_SIZE } from '@glomseg/shared/constants.js';
import type { RequestHeaders } from './glomseg-client.js';
import { tileLoaderWithHeaders } from './auth/tile-loader.js';

/** The pixel size the scale bar uses; it can be learnt after the map is made (the model's assumed um/px). */
export interface PixelSize {
  micrometres?: number;
}

/** Map projection for one slide: level-0 pixels, y = -slide y; the point resolution in metres drives the scale bar. */
export function slideProjection(slide: SlideMetadata, pixelSize: PixelSize): Projection {
  return new Projection({
    code: `glomseg-slide:${slide.id}`,
    units: 'pixels',
    extent: [0, -slide.height, slide.width, 0],
    getPointResolution: (resolution: number) => resolution * (pixelSize.micrometres ?? 1) * 1e-6,
  });
}

/** Tiles are fetched with `headers`, the token provider the gRPC-Web calls use (an <img> URL could not carry it). */
export function slideTileSource(
  slide: SlideMetadata,
  projection: Projection,
  baseUrl: string,
  headers?: RequestHeaders,
): TileImage {
  // OpenLayers wants the coarsest level first.
  const levels = [...slide.levels].sort((a, b) => b.downsample - a.downsample);
  const tileGrid = new TileGrid({
    extent: [0, -slide.height, slide.width, 0],
    origin: [0, 0],
    resolutions: levels.map((level) => level.downsample),
    tileSizes: levels.map((level) => [level.tileWidth || VIEWER_TILE_SIZE, level.tileHeight || VIEWER_TILE_SIZE]),
  });
  const slidePath = `${baseUrl}/api/slides/${encodeURIComponent(slide.id)}/tiles`;
  return new TileImage({
    projection,
    tileGrid,
    crossOrigin: 'anonymous',
    tileLoadFunction: tileLoaderWithHeaders(headers),
    tileUrlFunction: (coordinate) => {
      const [z, col, row] = coordinate;
      const level = levels[z];
      if (!level) return undefined;
      const tileWidth = level.tileWidth || VIEWER_TILE_SIZE;
      const tileHeight = level.tileHeight || VIEWER_TILE_SIZE;
      if (col < 0 || row < 0 || col * tileWidth >= level.width || row * tileHeight >= level.height) return undefined;
      return `${slidePath}/${level.index}/${col}/${row}`;
    },
  });
}
