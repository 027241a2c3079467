/** A tile's heatmap raster (shared/probability-raster.ts) as the 8-bit greyscale PNG that TileResult.probability_png carries. */
import { PNG } from 'pngjs';
import { probabilityRaster, type KeptRect } from '@glomseg/shared/probability-raster.js';
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';

export function probabilityPng(map: ProbabilityMap, keep: KeptRect): Uint8Array {
  const { width, height, levels } = probabilityRaster(map, keep);
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(levels.buffer, levels.byteOffset, levels.byteLength);
  // One filter (Sub) rather than trying all five on every row: a fifth of the time, about the same size here.
  const encoded = PNG.sync.write(png, {
    colorType: 0,
    inputColorType: 0,
    bitDepth: 8,
    inputHasAlpha: false,
    filterType: 1,
  });
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}
