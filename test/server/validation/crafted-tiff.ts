/**
 * Hostile but valid TIFFs, small on disk and enormous when read: every tile or strip entry points at the same
 * deflate blob. Classic little-endian TIFF, 8-bit RGB, written by hand (no library writes such files).
 */
import { deflateSync } from 'node:zlib';

const SHORT = 3;
const LONG = 4;

interface Entry {
  tag: number;
  type: number;
  values: number[];
}

function writeTiff(entries: Entry[], blob: Uint8Array): Uint8Array {
  entries.sort((a, b) => a.tag - b.tag);
  // Layout: header (8) | blob | out-of-line values | IFD.
  let offset = 8;
  const blobOffset = offset;
  offset += blob.length + (blob.length % 2);
  const outOfLine = new Map<Entry, number>();
  for (const entry of entries) {
    const size = entry.values.length * (entry.type === SHORT ? 2 : 4);
    if (size > 4) {
      outOfLine.set(entry, offset);
      offset += size + (size % 2);
    }
  }
  const ifdOffset = offset;
  const total = ifdOffset + 2 + entries.length * 12 + 4;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set([0x49, 0x49], 0);
  view.setUint16(2, 42, true);
  view.setUint32(4, ifdOffset, true);
  bytes.set(blob, blobOffset);
  const put = (at: number, type: number, values: number[]) => {
    values.forEach((v, i) =>
      type === SHORT ? view.setUint16(at + 2 * i, v, true) : view.setUint32(at + 4 * i, v, true),
    );
  };
  view.setUint16(ifdOffset, entries.length, true);
  entries.forEach((entry, i) => {
    const at = ifdOffset + 2 + i * 12;
    view.setUint16(at, entry.tag, true);
    view.setUint16(at + 2, entry.type, true);
    view.setUint32(at + 4, entry.values.length, true);
    const where = outOfLine.get(entry);
    if (where === undefined) put(at + 8, entry.type, entry.values);
    else {
      view.setUint32(at + 8, where, true);
      put(where, entry.type, entry.values);
    }
  });
  return bytes;
}

function baseEntries(width: number, height: number): Entry[] {
  return [
    { tag: 256, type: LONG, values: [width] },
    { tag: 257, type: LONG, values: [height] },
    { tag: 258, type: SHORT, values: [8, 8, 8] },
    { tag: 259, type: SHORT, values: [8] }, // deflate
    { tag: 262, type: SHORT, values: [2] }, // RGB
    { tag: 277, type: SHORT, values: [3] },
    { tag: 284, type: SHORT, values: [1] },
  ];
}

/** `width` x `height` pixels in `tile` x `tile` deflate tiles that all share one stored blob. */
export function hugeTiledTiff(width: number, height: number, tile: number): Uint8Array {
  const blob = deflateSync(new Uint8Array(tile * tile * 3).fill(200));
  const count = Math.ceil(width / tile) * Math.ceil(height / tile);
  const blobOffset = 8;
  return writeTiff(
    [
      ...baseEntries(width, height),
      { tag: 322, type: LONG, values: [tile] },
      { tag: 323, type: LONG, values: [tile] },
      { tag: 324, type: LONG, values: new Array(count).fill(blobOffset) },
      { tag: 325, type: LONG, values: new Array(count).fill(blob.length) },
    ],
    blob,
  );
}

/** A stripped deflate TIFF with one pixel row per strip, all strips sharing one blob. */
export function oneRowStripTiff(width: number, height: number): Uint8Array {
  const blob = deflateSync(new Uint8Array(width * 3).fill(200));
  const blobOffset = 8;
  return writeTiff(
    [
      ...baseEntries(width, height),
      { tag: 278, type: LONG, values: [1] },
      { tag: 273, type: LONG, values: new Array(height).fill(blobOffset) },
      { tag: 279, type: LONG, values: new Array(height).fill(blob.length) },
    ],
    blob,
  );
}
