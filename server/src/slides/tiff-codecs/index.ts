/** Every TIFF codec, registered by importing its file: a new compression is one file and its line here. */
import './geotiff-codecs.js';
import './jpeg2000.js';
import './webp.js';

export { isDecodableCompression, tiffCompressionName } from './tiff-codec-registry.js';
