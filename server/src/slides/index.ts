/** Slide reading at the edge: the slide readers (registered in readers/), and the catalog that finds and opens slides. */
export { GeoTiffSlideSource } from './geotiff-slide-source.js';
export { ImageFileSlideSource, MAX_IMAGE_PIXELS } from './image-file-slide-source.js';
export { SlideCatalog, openSlideFile, type CatalogSlide, type SlideCatalogOptions } from './slide-catalog.js';
export { isSlideFileName, slideExtensions } from './slide-readers.js';
export { MAX_REGION_OUTPUT_PIXELS, MAX_REGION_SOURCE_PIXELS } from './rgb-region.js';
export { COARSEST_LEVEL_MAX_EDGE } from './synthesized-levels.js';
export { tileCacheStats, TILE_CACHE_MAX_BYTES } from './tile-cache.js';
