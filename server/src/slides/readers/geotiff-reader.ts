/** Local TIFF-family slides (tiled or stripped TIFF, BigTIFF, OME-TIFF, Aperio SVS) read tile by tile with geotiff. */
import { GeoTiffSlideSource, isTiffHeader, TIFF_EXTENSIONS } from '../geotiff-slide-source.js';
import { hasExtension } from '../slide-reader.js';
import { registerSlideReader } from '../slide-readers.js';

registerSlideReader({
  name: 'geotiff',
  extensions: TIFF_EXTENSIONS,
  // A TIFF header with a TIFF name decides. A TIFF name alone still chooses it, so a damaged file gets the TIFF
  // reader's words; a TIFF header under another name (NDPI, SCN and BIF are TIFFs) makes it a fallback.
  support: (probe) => {
    if (probe.path === undefined) return undefined;
    const named = hasExtension(probe, TIFF_EXTENSIONS);
    if (isTiffHeader(probe.head)) return named ? 1 : 0.3;
    return named ? 0.5 : undefined;
  },
  open: (probe, { id, limits, signal }) => GeoTiffSlideSource.open(probe.path!, id, signal, limits),
});
