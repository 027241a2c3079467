import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { readWholeLevel, type RgbImage } from '@glomseg/shared/slide-source.js';
import { ImageFileSlideSource } from '../../../server/src/slides/image-file-slide-source.js';
import {
  FLAT_DECODE_CONCURRENCY,
  flatImageDecodes,
  ImageDecodeQueue,
} from '../../../server/src/slides/image-decode-queue.js';
import { whiteImage } from '../../../server/src/slides/rgb-region.js';
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
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
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
      expect(m.levels.map((l) => [l.width, l.height, l.downsample, l.synthesized])).toEqual([
        [1600, 1200, 1, false],
        [800, 600, 2, true],
      ]);
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
    await sharp(part.data, { raw: { width: 640, height: 480, channels: 3 } })
      .ensureAlpha(1)
      .png()
      .toFile(file);
    const source = await ImageFileSlideSource.open(file, 'tile.png');
    try {
      expect([
        source.metadata.format,
        source.metadata.width,
        source.metadata.height,
        source.metadata.levels.length,
      ]).toEqual(['png', 640, 480, 1]);
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
      await expect(source.readRegion({ level: 2, x: 0, y: 0, width: 10, height: 10 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(source.readRegion({ level: 0, x: 0, y: 0, width: -1, height: 10 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(source.readRegion({ level: 0, x: 0, y: 0, width: 9000, height: 9000 })).rejects.toMatchObject({
        code: 'RESOURCE_EXHAUSTED',
      });
    } finally {
      await source.close();
    }
  });
});

describe('large flat images (sharp decodes them whole, on the libuv threads that file reads need too)', () => {
  const COPIES = 6;
  const files: string[] = [];
  let width = 0;
  let height = 0;
  beforeAll(async () => {
    // 7.7 Mpixel: past the decoded-image cache, so every read decodes the file (the probe's 196-Mpx PNGs, smaller).
    const first = path.join(tmp, 'big-0.png');
    await sharp(hubmapTile).resize(3200, 2400).png({ compressionLevel: 1 }).toFile(first);
    files.push(first);
    for (let i = 1; i < COPIES; i++) {
      files.push(path.join(tmp, `big-${i}.png`));
      await copyFile(first, files[i]);
    }
    ({ width, height } = (await sharp(first).metadata()) as { width: number; height: number });
  });

  it(`runs at most ${FLAT_DECODE_CONCURRENCY} decodes on libuv's threads at once, however many reads ask`, async () => {
    const sources = await Promise.all(files.map((file, i) => ImageFileSlideSource.open(file, `big-${i}.png`)));
    try {
      // sharp's own counters: its calls waiting for a libuv thread plus those running on one.
      let most = 0;
      let sampling = true;
      const sample = () => {
        const { queue, process } = sharp.counters();
        most = Math.max(most, queue + process);
        if (sampling) setImmediate(sample);
      };
      const reads = sources.map((source) => source.readRegion({ level: 0, x: 0, y: 0, width, height }));
      sample();
      await Promise.all(reads);
      sampling = false;
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(FLAT_DECODE_CONCURRENCY);
      expect(flatImageDecodes.stats()).toMatchObject({ running: 0, queued: 0 });
    } finally {
      await Promise.all(sources.map((source) => source.close()));
    }
  });

  it('keeps waiting decodes off the libuv threads: a file read completes while they are held in the queue', async () => {
    const queue = new ImageDecodeQueue(1);
    let release!: () => void;
    const held = queue.run(
      'held',
      () => new Promise<RgbImage>((resolve) => (release = () => resolve(whiteImage(1, 1)))),
    );
    const sources = await Promise.all(
      files.map((file, i) => ImageFileSlideSource.open(file, `big-${i}.png`, undefined, queue)),
    );
    const small = path.join(tmp, 'small.bin');
    await writeFile(small, 'a few bytes');
    try {
      let decoded = 0;
      const reads = sources.map((source) =>
        source.readRegion({ level: 0, x: 0, y: 0, width, height }).then(() => decoded++),
      );
      expect(queue.stats()).toMatchObject({ running: 1, queued: COPIES });
      expect(sharp.counters()).toEqual({ queue: 0, process: 0 });
      expect(await readFile(small, 'utf8')).toBe('a few bytes');
      expect(decoded).toBe(0);
      release();
      await held;
      await Promise.all(reads);
      expect(decoded).toBe(COPIES);
      expect(queue.stats()).toMatchObject({ running: 0, queued: 0, completed: COPIES + 1 });
    } finally {
      await Promise.all(sources.map((source) => source.close()));
    }
  });

  it('refuses a read with RESOURCE_EXHAUSTED when too many decodes are waiting, and a cancelled read stops waiting', async () => {
    const queue = new ImageDecodeQueue(1, 1);
    let release!: () => void;
    const held = queue.run(
      'held',
      () => new Promise<RgbImage>((resolve) => (release = () => resolve(whiteImage(1, 1)))),
    );
    const [a, b] = await Promise.all(
      files.slice(0, 2).map((file, i) => ImageFileSlideSource.open(file, `big-${i}.png`, undefined, queue)),
    );
    try {
      const cancel = new AbortController();
      const waiting = a.readRegion({ level: 0, x: 0, y: 0, width: 10, height: 10 }, cancel.signal);
      const refused = await b.readRegion({ level: 0, x: 0, y: 0, width: 10, height: 10 }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
      expect((refused as Error).message).toMatch(/image decodes are already waiting/);
      cancel.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(queue.stats()).toMatchObject({ queued: 0, droppedQueued: 1 });
      release();
      await held;
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('gives a whole synthesised level in one decode (the survey view), close to the area average', async () => {
    const source = await ImageFileSlideSource.open(files[0], 'big-0.png');
    try {
      const level = source.metadata.levels.length - 1;
      expect(source.metadata.levels[level]).toMatchObject({ width: 800, height: 600, synthesized: true });
      const before = flatImageDecodes.stats().completed;
      const view = await readWholeLevel(source, level);
      expect(flatImageDecodes.stats().completed - before).toBe(1);
      const exact = await source.readRegion({ level, x: 0, y: 0, width: 800, height: 600 });
      expect([view.width, view.height]).toEqual([800, 600]);
      expect(meanAbsDiff(view.data, exact.data)).toBeLessThan(3);
    } finally {
      await source.close();
    }
  });
});
