/** Local TIFF-family slides (tiled or stripped TIFF, BigTIFF, OME-TIFF, Aperio SVS) read tile by tile with geotiff. */
import { GeoTiffSlideSource, isTiffHeader, TIFF_EXTENSIONS } from '../geotiff-slide-source.js';
import { hasExtension } from '../slide-reader.js';
import { registerSlideReader } from '../slide-readers.js';

registerSlideReader({
  name: 'geotiff',
  extensions: TIFF_EXTENSIONS,
  // A TIFF header decides; a TIFF name alone still chooses it, so a damaged file gets the TIFF reader's words.
  support: (probe) => (probe.path === undefined ? undefined : isTiffHeader(probe.head) ? 1 : hasExtension(probe, TIFF_EXTENSIONS) ? 0.5 : undefined),
  open: (probe, { id, limits, signal }) => GeoTiffSlideSource.open(probe.path!, id, signal, limits),
});
