/**
 * Test fixtures: a minimal little-endian TIFF writer for layouts sharp cannot write (OME-XML description, SubIFD
 * pyramids, hand-made broken files). Uncompressed, tiled, 8-bit RGB; follows TIFF 6.0 + the SubIFDs extension.
 */

export interface FixtureImage {
  width: number;
  height: number;
  tileSize: number;
  /** Interleaved RGB, width * height * 3. */
  rgb: Uint8Array;
  description?: string;
  subfileType?: number;
  /** Crafted files: LONG values written for these tags instead of the real ones (e.g. 256, ImageWidth: 2 ** 31). */
  tags?: Record<number, number>;
}

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const IFD = 13;

interface Entry {
  tag: number;
  type: number;
  values: number[] | string;
}

class ByteWriter {
  private bytes = new Uint8Array(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Appends bytes at an even offset and returns that offset. */
  append(data: Uint8Array): number {
    if (this.length % 2) this.append1(0);
    this.ensure(data.length);
    const offset = this.length;
    this.bytes.set(data, offset);
    this.length += data.length;
    return offset;
  }

  private append1(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }

  setUint32(offset: number, value: number): void {
    new DataView(this.bytes.buffer).setUint32(offset, value, true);
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

function encodeValues(entry: Entry): Uint8Array {
  if (typeof entry.values === 'string') return new TextEncoder().encode(`${entry.values}\0`);
  const size = entry.type === SHORT ? 2 : 4;
  const out = new Uint8Array(entry.values.length * size);
  const view = new DataView(out.buffer);
  entry.values.forEach((value, i) =>
    size === 2 ? view.setUint16(i * 2, value, true) : view.setUint32(i * 4, value, true),
  );
  return out;
}

function writeIfd(writer: ByteWriter, entries: Entry[], nextIfd: number): number {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const encoded = sorted.map(encodeValues);
  const outOfLine = encoded.map((data) => (data.length > 4 ? writer.append(data) : -1));
  const ifd = new Uint8Array(2 + 12 * sorted.length + 4);
  const view = new DataView(ifd.buffer);
  view.setUint16(0, sorted.length, true);
  sorted.forEach((entry, i) => {
    const at = 2 + i * 12;
    const count = typeof entry.values === 'string' ? encoded[i].length : entry.values.length;
    view.setUint16(at, entry.tag, true);
    view.setUint16(at + 2, entry.type, true);
    view.setUint32(at + 4, count, true);
    if (outOfLine[i] >= 0) view.setUint32(at + 8, outOfLine[i], true);
    else ifd.set(encoded[i], at + 8);
  });
  view.setUint32(2 + 12 * sorted.length, nextIfd, true);
  return writer.append(ifd);
}

function writeTiles(writer: ByteWriter, image: FixtureImage): { offsets: number[]; counts: number[] } {
  const { width, height, tileSize, rgb } = image;
  const offsets: number[] = [];
  const counts: number[] = [];
  for (let ty = 0; ty < height; ty += tileSize) {
    for (let tx = 0; tx < width; tx += tileSize) {
      const tile = new Uint8Array(tileSize * tileSize * 3); // padding stays 0 (black) to catch edge bugs
      for (let y = 0; y < tileSize && ty + y < height; y++) {
        const rowWidth = Math.min(tileSize, width - tx);
        const from = ((ty + y) * width + tx) * 3;
        tile.set(rgb.subarray(from, from + rowWidth * 3), y * tileSize * 3);
      }
      offsets.push(writer.append(tile));
      counts.push(tile.length);
    }
  }
  return { offsets, counts };
}

function imageEntries(image: FixtureImage, tiles: { offsets: number[]; counts: number[] }): Entry[] {
  const entries: Entry[] = [
    { tag: 254, type: LONG, values: [image.subfileType ?? 0] },
    { tag: 256, type: LONG, values: [image.width] },
    { tag: 257, type: LONG, values: [image.height] },
    { tag: 258, type: SHORT, values: [8, 8, 8] },
    { tag: 259, type: SHORT, values: [1] },
    { tag: 262, type: SHORT, values: [2] },
    { tag: 277, type: SHORT, values: [3] },
    { tag: 284, type: SHORT, values: [1] },
    { tag: 322, type: LONG, values: [image.tileSize] },
    { tag: 323, type: LONG, values: [image.tileSize] },
    { tag: 324, type: LONG, values: tiles.offsets },
    { tag: 325, type: LONG, values: tiles.counts },
  ];
  if (image.description !== undefined) entries.push({ tag: 270, type: ASCII, values: image.description });
  for (const [tag, value] of Object.entries(image.tags ?? {})) {
    const entry = entries.find((e) => e.tag === Number(tag));
    if (entry) Object.assign(entry, { type: LONG, values: [value] });
    else entries.push({ tag: Number(tag), type: LONG, values: [value] });
  }
  return entries;
}

/** A TIFF whose IFD chain holds `chain`; `subIfds` become SubIFDs of the first image (OME-TIFF pyramid style). */
export function writeTiledTiff(chain: FixtureImage[], subIfds: FixtureImage[] = []): Uint8Array {
  const writer = new ByteWriter();
  writer.append(Uint8Array.from([0x49, 0x49, 42, 0, 0, 0, 0, 0]));
  const chainTiles = chain.map((image) => writeTiles(writer, image));
  const subTiles = subIfds.map((image) => writeTiles(writer, image));
  const subOffsets = subIfds.map((image, i) => writeIfd(writer, imageEntries(image, subTiles[i]), 0));
  let next = 0;
  for (let i = chain.length - 1; i >= 0; i--) {
    const entries = imageEntries(chain[i], chainTiles[i]);
    if (i === 0 && subOffsets.length > 0) entries.push({ tag: 330, type: IFD, values: subOffsets });
    next = writeIfd(writer, entries, next);
  }
  writer.setUint32(4, next);
  return writer.result();
}

/** Halves an RGB image by 2x2 averaging (odd edges average what exists), for fixture pyramids. */
export function halve(
  rgb: Uint8Array,
  width: number,
  height: number,
): { rgb: Uint8Array; width: number; height: number } {
  const w = Math.ceil(width / 2);
  const h = Math.ceil(height / 2);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const sx = 2 * x + dx;
            const sy = 2 * y + dy;
            if (sx < width && sy < height) {
              sum += rgb[(sy * width + sx) * 3 + c];
              n++;
            }
          }
        }
        out[(y * w + x) * 3 + c] = Math.round(sum / n);
      }
    }
  }
  return { rgb: out, width: w, height: h };
}
