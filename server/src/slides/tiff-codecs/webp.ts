/**
 * WebP tiles in TIFF (compression 50001), decoded by sharp's libwebp: geotiff's own WebP decoder draws on a
 * canvas, which Node has not. sharp decodes on libuv's threads, so this decoder runs where it is called (not in
 * the worker pool, where it would load sharp a second time).
 */
import { BaseDecoder } from 'geotiff';
import { registerTiffCodec } from './tiff-codec-registry.js';

class WebpDecoder extends BaseDecoder {
  async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    const { default: sharp } = await import('sharp');
    const bits = this.parameters.bitsPerSample;
    const samples = typeof bits === 'number' ? 1 : bits.length;
    if (samples !== 3 && samples !== 4)
      throw new Error(`a WebP tile of ${samples} samples per pixel (RGB or RGBA only)`);
    const image = sharp(new Uint8Array(buffer));
    const { data, info } = await (samples === 4 ? image.ensureAlpha() : image.removeAlpha())
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { tileWidth, tileHeight } = this.parameters;
    if (info.width !== tileWidth || info.height !== tileHeight) {
      throw new Error(
        `a WebP tile of ${info.width} x ${info.height} pixels where the TIFF says ${tileWidth} x ${tileHeight}`,
      );
    }
    return new Uint8Array(data).buffer;
  }
}

registerTiffCodec({ codes: [50001], name: 'webp', decoder: async () => WebpDecoder, preferWorker: false });
