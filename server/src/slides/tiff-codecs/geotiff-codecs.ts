/** The compressions geotiff decodes itself (JPEG goes to sharp first: geotiff-slide-source.ts), by name. */
import { registerTiffCodec } from './tiff-codec-registry.js';

registerTiffCodec({ codes: [1], name: 'none' });
registerTiffCodec({ codes: [5], name: 'lzw' });
registerTiffCodec({ codes: [6], name: 'old-jpeg', decodes: false });
registerTiffCodec({ codes: [7], name: 'jpeg' });
registerTiffCodec({ codes: [8, 32946], name: 'deflate' });
registerTiffCodec({ codes: [32773], name: 'packbits' });
registerTiffCodec({ codes: [34887], name: 'lerc' });
registerTiffCodec({ codes: [50000], name: 'zstd' });
