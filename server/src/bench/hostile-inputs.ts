/**
 * Hostile inputs from the hardening probe, shared by the tests and `npm run bench:hardening`: ground truths that
 * cost seconds of CPU or exceed the cost bounds, a gzip bomb for the message limits, and large flat images.
 */
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import sharp from 'sharp';

/**
 * A star of `vertices` points around (cx, cy), alternating radii `inner` and `outer` (equal radii: a circle).
 * `round`: whole-pixel vertices (shorter text: 2.5 M of them make about 30 MB).
 */
export function starRing(
  vertices: number,
  cx: number,
  cy: number,
  inner: number,
  outer: number,
  round = false,
): Array<[number, number]> {
  const at = round ? Math.round : (v: number) => v;
  return Array.from({ length: vertices }, (_, i) => {
    const angle = (2 * Math.PI * i) / vertices;
    const r = i % 2 ? outer : inner;
    return [at(cx + r * Math.cos(angle)), at(cy + r * Math.sin(angle))] as [number, number];
  });
}

export function geoJsonOf(rings: Array<Array<[number, number]>>): string {
  return JSON.stringify({
    type: 'FeatureCollection',
    features: rings.map((ring) => ({
      type: 'Feature',
      properties: { objectType: 'annotation', classification: { name: 'Glomerulus' } },
      geometry: { type: 'Polygon', coordinates: [[...ring, ring[0]]] },
    })),
  });
}

/** `count` small squares on a grid: many polygons, few vertices each. */
export function manySquares(count: number, step = 12): Array<Array<[number, number]>> {
  const perRow = Math.ceil(Math.sqrt(count));
  return Array.from({ length: count }, (_, i) => {
    const x = (i % perRow) * step;
    const y = Math.floor(i / perRow) * step;
    return [
      [x, y],
      [x + 8, y],
      [x + 8, y + 8],
      [x, y + 8],
    ] as Array<[number, number]>;
  });
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

/**
 * A ScoreSlideRequest whose annotation text is `expandedBytes` of zeros, compressed to about a thousandth: built
 * from concatenated gzip members (valid per RFC 1952), so a 1 GB bomb costs one 1 MiB compression.
 */
const CHUNK = 1 << 20;

export function gzipBomb(expandedBytes: number): Buffer {
  const chunks = Math.ceil(expandedBytes / CHUNK);
  const contentLength = chunks * CHUNK;
  const inner = [0x0a, ...varint(contentLength)]; // Annotations.content, then the zeros
  const head = Buffer.from([0x0a, 1, 0x78, 0x22, ...varint(inner.length + contentLength), ...inner]); // slide_id "x", annotations
  const zeros = gzipSync(Buffer.alloc(CHUNK), { level: 9 });
  return Buffer.concat([gzipSync(head), ...Array.from({ length: chunks }, () => zeros)]);
}

/** One length-prefixed gRPC / gRPC-Web message frame, flagged compressed. */
export function compressedFrame(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = 1;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/**
 * `count` PNGs of `edge` x `edge` pixels in `dir`, each a different flat colour: slides that sharp must decode
 * whole (the probe's 196-Mpixel ones are edge 14,000, under the 200-Mpixel limit). Flat, so they are quick to
 * write and small on disk; decoding them still inflates every row.
 */
export async function writeLargePngs(dir: string, count: number, edge: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `flat-${edge}-${i}.png`);
    await sharp({
      create: { width: edge, height: edge, channels: 3, background: { r: 230 - i, g: 200, b: 220 } },
      limitInputPixels: false,
    })
      .png({ compressionLevel: 1 })
      .toFile(file);
    files.push(file);
  }
  return files;
}
