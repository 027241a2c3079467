/**
 * JPEG-in-TIFF tiles as standalone JPEGs: splice the shared JPEGTables into the tile stream and, where the stream
 * does not say how its three components are coded, add an Adobe APP14 marker that does. Without it a decoder
 * (libjpeg-turbo in sharp or a browser) applies YCbCr->RGB to Aperio's RGB-coded tiles and the colours come out wrong.
 */
import sharp from 'sharp';
import type { RgbImage } from '@glomseg/shared/slide-source.js';

export const PHOTOMETRIC_MIN_IS_BLACK = 1;
export const PHOTOMETRIC_RGB = 2;
export const PHOTOMETRIC_YCBCR = 6;

export interface JpegStreamInfo {
  hasAdobeMarker: boolean;
  hasJfifMarker: boolean;
  /** Number of colour components of the frame, 0 when no frame header was found. */
  components: number;
}

/** Walks the marker segments up to the first scan; the entropy-coded data after it is not parsed. */
export function inspectJpegStream(bytes: Uint8Array): JpegStreamInfo {
  const info: JpegStreamInfo = { hasAdobeMarker: false, hasJfifMarker: false, components: 0 };
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) break;
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      offset += 2;
      continue;
    }
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    const body = offset + 4;
    if (marker === 0xee && matchesAscii(bytes, body, 'Adobe')) info.hasAdobeMarker = true;
    if (marker === 0xe0 && matchesAscii(bytes, body, 'JFIF')) info.hasJfifMarker = true;
    const isFrameHeader = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrameHeader && body + 5 < bytes.length) info.components = bytes[body + 5];
    offset += 2 + length;
  }
  return info;
}

function matchesAscii(bytes: Uint8Array, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** APP14 "Adobe" segment; transform 0 = components are RGB as stored, 1 = YCbCr. */
function adobeMarker(transform: 0 | 1): Uint8Array {
  return Uint8Array.from([
    0xff,
    0xee,
    0x00,
    0x0e,
    0x41,
    0x64,
    0x6f,
    0x62,
    0x65,
    0x00,
    0x64,
    0x00,
    0x00,
    0x00,
    0x00,
    transform,
  ]);
}

export interface StandaloneJpeg {
  bytes: Uint8Array;
  /** True when any JPEG decoder, a browser included, shows the right colours. */
  browserSafe: boolean;
}

/**
 * A complete JPEG from one tile's stored bytes: SOI, an Adobe marker where needed, the tables without their
 * SOI/EOI, then the tile without its SOI.
 */
export function toStandaloneJpeg(
  tile: Uint8Array,
  tables: Uint8Array | undefined,
  photometric: number,
): StandaloneJpeg {
  if (tile.length < 4 || tile[0] !== 0xff || tile[1] !== 0xd8) {
    throw new Error('the tile is not a JPEG stream (no start-of-image marker)');
  }
  const tableBody =
    tables && tables.length >= 4
      ? tables.subarray(
          2,
          tables[tables.length - 2] === 0xff && tables[tables.length - 1] === 0xd9 ? tables.length - 2 : tables.length,
        )
      : new Uint8Array(0);
  const info = inspectJpegStream(tile);
  const tablesInfo = tables ? inspectJpegStream(tables) : undefined;
  const declaresColour =
    info.hasAdobeMarker || info.hasJfifMarker || !!tablesInfo?.hasAdobeMarker || !!tablesInfo?.hasJfifMarker;
  let marker: Uint8Array = new Uint8Array(0);
  if (info.components === 3 && !declaresColour) {
    marker = adobeMarker(photometric === PHOTOMETRIC_RGB ? 0 : 1);
  }
  const bytes = new Uint8Array(2 + marker.length + tableBody.length + tile.length - 2);
  bytes[0] = 0xff;
  bytes[1] = 0xd8;
  bytes.set(marker, 2);
  bytes.set(tableBody, 2 + marker.length);
  bytes.set(tile.subarray(2), 2 + marker.length + tableBody.length);
  // Grey, or three components whose coding the stream now states (a marker of its own or the one added): any
  // libjpeg-style decoder shows them right. Four components (CMYK/YCCK) are not browser material.
  return { bytes, browserSafe: info.components === 1 || info.components === 3 };
}

/** Decodes a standalone JPEG with sharp (libjpeg-turbo) to interleaved RGB. */
export async function decodeJpegToRgb(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, info.channels);
}

/** Interleaved 1-4 channel 8-bit pixels to RGB (grey is replicated, alpha dropped). */
export function toRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  if (channels === 3) return { width, height, data };
  const out = new Uint8Array(width * height * 3);
  const n = width * height;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (channels <= 2) {
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = data[s];
    } else {
      out[i * 3] = data[s];
      out[i * 3 + 1] = data[s + 1];
      out[i * 3 + 2] = data[s + 2];
    }
  }
  return { width, height, data: out };
}
