/** TIFF-family slides by URL (https://, http://, s3://), read with range requests; PNG/JPEG would be fetched whole. */
import { GeoTiffSlideSource, TIFF_EXTENSIONS } from '../geotiff-slide-source.js';
import { hasExtension } from '../slide-reader.js';
import { registerSlideReader } from '../slide-readers.js';

registerSlideReader({
  name: 'remote-tiff',
  extensions: TIFF_EXTENSIONS,
  byUrl: true,
  support: (probe) => (probe.url && hasExtension(probe, TIFF_EXTENSIONS) ? 1 : undefined),
  open: async (probe, { id, limits, signal }) =>
    GeoTiffSlideSource.openUrl(await probe.url!.href(), probe.url!.label, id, signal, limits),
});
