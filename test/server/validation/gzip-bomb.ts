/**
 * A gzip bomb for the message limits: a ScoreSlideRequest whose annotation text is `expandedBytes` of zeros,
 * compressed to about a thousandth of that. Built from concatenated gzip members (valid per RFC 1952), so making
 * a 1 GB bomb costs the test one 1 MiB compression, not a gigabyte.
 */
import { gzipSync } from 'node:zlib';

function varint(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

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
