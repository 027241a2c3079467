/**
 * JPEG 2000 tiles in TIFF: Aperio's 33003 (YCbCr components) and 33005 (RGB), and 34712 (JPEG 2000 in any TIFF),
 * decoded by OpenJPEG built to wasm (@cornerstonejs/codec-openjpeg) in geotiff's worker pool.
 *
 * Aperio's 33003 codestreams hold Y, Cb and Cr without the codestream's colour transform, mostly with chroma at
 * half width. OpenJPEG's decoder turns subsampled YCbCr into RGB itself (its colour space then reads sRGB); full
 * size YCbCr comes back as it is and is converted here as OpenSlide does (JPEG's full-range YCbCr, its rounded
 * tables). Edge tiles may be stored smaller than the tile size: they are placed in a whole tile, as geotiff expects.
 */
import { createRequire } from 'node:module';
import { BaseDecoder } from 'geotiff';
import { registerTiffCodec } from './tiff-codec-registry.js';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}
interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  getColorSpace(): number;
  delete(): void;
}
type OpenJpegFactory = (options: {
  print: (text: string) => void;
  printErr: (text: string) => void;
}) => Promise<{ J2KDecoder: new () => J2KDecoder }>;

/** opj_colorspace's OPJ_CLRSPC_SRGB: what the image reads after OpenJPEG converted YCbCr itself. */
const OPJ_CLRSPC_SRGB = 1;

let openjpeg: ReturnType<OpenJpegFactory> | undefined;
/** The decoder prints its errors (and much else) instead of throwing: the last error line, for messages. */
let lastError = '';

function codec(): ReturnType<OpenJpegFactory> {
  const factory = createRequire(import.meta.url)('@cornerstonejs/codec-openjpeg/decodewasmjs') as OpenJpegFactory;
  const keepErrors = (text: string) => {
    if (/error/i.test(text)) lastError = text.replace(/^\[ERROR\]\s*/, '');
  };
  return (openjpeg ??= factory({ print: keepErrors, printErr: keepErrors }));
}

class Jpeg2000Decoder extends BaseDecoder {
  protected readonly ycbcr: boolean = false;

  async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    const decoder = new (await codec()).J2KDecoder();
    try {
      lastError = '';
      const bytes = new Uint8Array(buffer);
      decoder.getEncodedBuffer(bytes.length).set(bytes);
      decoder.decode();
      const { width, height, bitsPerSample, componentCount } = decoder.getFrameInfo();
      const decoded = decoder.getDecodedBuffer();
      if (decoded.length === 0 || decoded.length !== width * height * componentCount) {
        throw new Error(`OpenJPEG cannot decode the JPEG 2000 tile${lastError ? `: ${lastError}` : ''}`);
      }
      if (bitsPerSample !== 8)
        throw new Error(`a JPEG 2000 tile of ${bitsPerSample}-bit samples (only 8-bit slides are read)`);
      const tile = wholeTile(
        decoded,
        width,
        height,
        componentCount,
        this.parameters.tileWidth,
        this.parameters.tileHeight,
      );
      if (this.ycbcr && componentCount === 3 && decoder.getColorSpace() !== OPJ_CLRSPC_SRGB) ycbcrToRgb(tile);
      return tile.buffer;
    } finally {
      decoder.delete();
    }
  }
}

class AperioYCbCrDecoder extends Jpeg2000Decoder {
  protected override readonly ycbcr = true;
}

/** The decoded pixels placed at the top left of a tile of the TIFF's tile size (larger codestreams cropped). */
function wholeTile(
  decoded: Uint8Array,
  width: number,
  height: number,
  channels: number,
  tileWidth: number,
  tileHeight: number,
): Uint8Array {
  const tile = new Uint8Array(tileWidth * tileHeight * channels);
  if (width === tileWidth && height >= tileHeight) {
    tile.set(decoded.subarray(0, tile.length));
    return tile;
  }
  const rowBytes = Math.min(width, tileWidth) * channels;
  for (let y = 0; y < Math.min(height, tileHeight); y++) {
    tile.set(decoded.subarray(y * width * channels, y * width * channels + rowBytes), y * tileWidth * channels);
  }
  return tile;
}

/** C's round(): halves away from zero, as OpenSlide's tables were made. */
const round = (value: number) => Math.sign(value) * Math.round(Math.abs(value));
const R_CR = Array.from({ length: 256 }, (_, i) => round(1.402 * (i - 128)));
const G_CB = Array.from({ length: 256 }, (_, i) => round(65536 * (0.5 - 0.34414 * (i - 128))));
const G_CR = Array.from({ length: 256 }, (_, i) => round(65536 * -0.71414 * (i - 128)));
const B_CB = Array.from({ length: 256 }, (_, i) => round(1.772 * (i - 128)));

/** Full-range YCbCr to RGB in place, as OpenSlide converts Aperio 33003 (integer tables, clamped). */
function ycbcrToRgb(pixels: Uint8Array): void {
  for (let i = 0; i < pixels.length; i += 3) {
    const y = pixels[i];
    const cb = pixels[i + 1];
    const cr = pixels[i + 2];
    pixels[i] = Math.min(255, Math.max(0, y + R_CR[cr]));
    pixels[i + 1] = Math.min(255, Math.max(0, y + ((G_CB[cb] + G_CR[cr]) >> 16)));
    pixels[i + 2] = Math.min(255, Math.max(0, y + B_CB[cb]));
  }
}

registerTiffCodec({ codes: [33005, 34712], name: 'jpeg2000', decoder: async () => Jpeg2000Decoder });
registerTiffCodec({ codes: [33003], name: 'jpeg2000', decoder: async () => AperioYCbCrDecoder });
