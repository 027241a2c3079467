import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { GeoTiffSlideSource } from '../../../server/src/slides/geotiff-slide-source.js';
import { decoderPoolRunning } from '../../../server/src/slides/decoder-pool.js';
import { kidneyRegion } from './test-data.js';

// geotiff starts all of a pool's worker threads when the pool is made; each idle one holds its own V8 heap.
describe('decoder pool', () => {
  let dir: string;
  let lzwSlide: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'glomseg-decoder-pool-'));
    lzwSlide = path.join(dir, 'lzw.tif');
    await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: 200, g: 120, b: 180 } } })
      .tiff({ tile: true, tileWidth: 256, tileHeight: 256, compression: 'lzw' })
      .toFile(lzwSlide);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is not started for a JPEG slide, whose tiles sharp decodes', async () => {
    const source = await GeoTiffSlideSource.open(kidneyRegion, 'kidney-region.tif');
    try {
      const region = await source.readRegion({ level: 0, x: 1000, y: 1000, width: 600, height: 400 });
      expect(region.width).toBe(600);
      expect(decoderPoolRunning()).toBe(false);
    } finally {
      await source.close();
    }
  });

  it('starts on the first block geotiff decodes and ends with the last source that holds it', async () => {
    const first = await GeoTiffSlideSource.open(lzwSlide, 'lzw.tif');
    const second = await GeoTiffSlideSource.open(lzwSlide, 'lzw-again.tif');
    try {
      expect(decoderPoolRunning()).toBe(false);
      const region = await first.readRegion({ level: 0, x: 0, y: 0, width: 300, height: 300 });
      expect(Array.from(region.data.subarray(0, 3))).toEqual([200, 120, 180]);
      expect(decoderPoolRunning()).toBe(true);
      await second.readRegion({ level: 0, x: 256, y: 256, width: 100, height: 100 });
      await first.close();
      expect(decoderPoolRunning()).toBe(true);
    } finally {
      await first.close();
      await second.close();
    }
    expect(decoderPoolRunning()).toBe(false);
  });

  it('is not taken by a source after it is closed', async () => {
    const source = await GeoTiffSlideSource.open(lzwSlide, 'lzw.tif');
    await source.close();
    await expect(source.readRegion({ level: 0, x: 0, y: 0, width: 10, height: 10 })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
    expect(decoderPoolRunning()).toBe(false);
  });
});
