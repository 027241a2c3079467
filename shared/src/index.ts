/** Public API of @glomseg/shared: contracts plus pure geometry, scoring and format code (no I/O, no DOM). */
export * from './errors.js';
export * from './geometry.js';
export * from './model-card.js';
export * from './slide-source.js';
export * from './segmenter.js';
export * from './tile-grid.js';
export * from './preprocess.js';
export * from './rasterize.js';
export * from './mask-to-polygons.js';
export * from './join-polygons.js';
export * from './dice.js';
export * from './rle.js';
export * from './annotations.js';
export * from './ground-truth.js';
export * from './polygon-repair.js';
