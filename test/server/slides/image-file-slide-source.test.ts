import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { ImageFileSlideSource } from '../../../server/src/slides/image-file-slide-source.js';
import { boxAverage, crop, hubmapTile, meanAbsDiff, sharpRgb } from './test-data.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A PNG whose header claims the given size, with only one row of pixel data (enough for the size limit). */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))), chunk('IEND', Buffer.alloc(0))]);
}

let tmp: string;
let reference: RgbImage;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-images-'));
  reference = await sharpRgb(hubmapTile);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('ImageFileSlideSource', () => {
  it('serves a 1600x1200 JPEG tile as a one-level slide with a synthesised level', async () => {
    const source = await ImageFileSlideSource.open(hubmapTile, '106.jpg');
    try {
      const m = source.metadata;
      expect([m.format, m.compression, m.width, m.height, m.tileWidth]).toEqual(['jpeg', 'jpeg', 1600, 1200, 0]);
      expect(m.levels.map((l) => [l.width, l.height, l.downsample, l.synthesized])).toEqual([[1600, 1200, 1, false], [800, 600, 2, true]]);
      const region = await source.readRegion({ level: 0, x: 300, y: 200, width: 500, height: 400 });
      expect(sameBytes(region.data, crop(reference, 300, 200, 500, 400).data)).toBe(true);
      const level1 = await source.readRegion({ level: 1, x: 0, y: 0, width: 800, height: 600 });
      expect(meanAbsDiff(level1.data, boxAverage(reference, 2).data)).toBeLessThan(0.01);
      const edge = await source.readRegion({ level: 0, x: 1500, y: -10, width: 200, height: 50 });
      expect(sameBytes(crop(edge, 0, 10, 100, 40).data, crop(reference, 1500, 0, 100, 40).data)).toBe(true);
      expect(crop(edge, 100, 0, 100, 50).data.every((v) => v === 255)).toBe(true);
      expect(crop(edge, 0, 0, 100, 10).data.every((v) => v === 255)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('reads a PNG (with alpha, flattened on white) losslessly', async () => {
    const file = path.join(tmp, 'tile.png');
    const part = crop(reference, 0, 0, 640, 480);
    await sharp(part.data, { raw: { width: 640, height: 480, channels: 3 } }).ensureAlpha(1).png().toFile(file);
    const source = await ImageFileSlideSource.open(file, 'tile.png');
    try {
      expect([source.metadata.format, source.metadata.width, source.metadata.height, source.metadata.levels.length]).toEqual(['png', 640, 480, 1]);
      const all = await source.readRegion({ level: 0, x: 0, y: 0, width: 640, height: 480 });
      expect(sameBytes(all.data, part.data)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('refuses images too large to decode whole, and files that are not images', async () => {
    const huge = path.join(tmp, 'huge.png');
    await writeFile(huge, pngHeaderOnly(20000, 15000));
    const error = await ImageFileSlideSource.open(huge, 'huge.png').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('RESOURCE_EXHAUSTED');
    expect((error as GlomsegError).message).toMatch(/300 Mpixel/);

    const text = path.join(tmp, 'text.jpg');
    await writeFile(text, 'not a picture');
    const notImage = await ImageFileSlideSource.open(text, 'text.jpg').catch((e: unknown) => e);
    expect(notImage).toBeInstanceOf(GlomsegError);
    expect((notImage as GlomsegError).code).toBe('INVALID_ARGUMENT');
  });

  it('validates requests like every slide source', async () => {
    const source = await ImageFileSlideSource.open(hubmapTile, '106.jpg');
    try {
      await expect(source.readRegion({ level: 2, x: 0, y: 0, width: 10, height: 10 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(source.readRegion({ level: 0, x: 0, y: 0, width: -1, height: 10 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(source.readRegion({ level: 0, x: 0, y: 0, width: 9000, height: 9000 })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    } finally {
      await source.close();
    }
  });
});
