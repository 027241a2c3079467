import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { makeLargeSlide, type LargeSlideReport } from '../../../server/src/bench/large-slide.js';
import { GeoTiffSlideSource } from '../../../server/src/slides/geotiff-slide-source.js';
import { kidneyRegionQuarter, meanAbsDiff, sharpRegion } from '../slides/test-data.js';

// The quarter-scale eval region (1600 x 1200, real pixels) mirror-tiled to 2048 x 2048: small, and mirrored on both axes.
const SIZE = 2048;
const SOURCE_WIDTH = 1600;
const SOURCE_HEIGHT = 1200;

let folder: string;
let report: LargeSlideReport;
let slide: GeoTiffSlideSource;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'glomseg-large-slide-'));
  report = await makeLargeSlide({
    source: kidneyRegionQuarter,
    out: path.join(folder, 'large.tif'),
    width: SIZE,
    mpp: 2,
    quality: 90,
  });
  slide = await GeoTiffSlideSource.open(report.path, 'large.tif');
});

afterAll(async () => {
  await slide?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** Column x (or row y) of an RGB image, as one array. */
function column(image: RgbImage, x: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < image.height; y++)
    out.push(...image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));
  return out;
}

function row(image: RgbImage, y: number): number[] {
  return Array.from(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3));
}

describe('makeLargeSlide', () => {
  it('writes a tiled, pyramidal JPEG BigTIFF that our reader opens at the asked size and pixel size', async () => {
    expect(report).toMatchObject({
      width: SIZE,
      height: SIZE,
      sourceWidth: SOURCE_WIDTH,
      sourceHeight: SOURCE_HEIGHT,
      tileSize: 256,
      mpp: 2,
    });
    expect(report.fileBytes).toBe((await stat(report.path)).size);
    const meta = slide.metadata;
    expect(meta.width).toBe(SIZE);
    expect(meta.height).toBe(SIZE);
    expect(meta.format).toBe('bigtiff');
    expect(meta.compression).toBe('jpeg');
    expect(meta.tileWidth).toBe(256);
    expect(meta.mppSource).toBe('tiff-resolution');
    expect(meta.mppX).toBeCloseTo(2, 6);
    expect(meta.mppY).toBeCloseTo(2, 6);
    // Stored (not synthesised) halvings down to one tile: 2048, 1024, 512, 256.
    const stored = meta.levels.filter((l) => !l.synthesized);
    expect(stored.map((l) => l.width).slice(0, 4)).toEqual([2048, 1024, 512, 256]);
    expect(stored.every((l) => l.tileWidth === 256)).toBe(true);
  });

  it('keeps the source pixels in the top-left corner', async () => {
    const ours = await slide.readRegion({ level: 0, x: 0, y: 0, width: SOURCE_WIDTH, height: SOURCE_HEIGHT });
    const original = await sharpRegion(kidneyRegionQuarter, 0, 0, 0, SOURCE_WIDTH, SOURCE_HEIGHT);
    expect(meanAbsDiff(ours.data, original.data)).toBeLessThan(3); // JPEG quality 90, twice
  });

  it('mirrors the source past its right and bottom edges, so the seams are continuous', async () => {
    const band = await slide.readRegion({ level: 0, x: SOURCE_WIDTH - 200, y: 0, width: 400, height: SOURCE_HEIGHT });
    // Column 1600 + k mirrors column 1599 - k (the edge column is repeated, as libvips mirrors).
    const mirrored = [0, 5, 50, 150].map((k) => meanAbsDiff(column(band, 200 + k), column(band, 199 - k)));
    // Against a column that is not its mirror image, the difference is real tissue contrast.
    const unrelated = [0, 5, 50, 150].map((k) => meanAbsDiff(column(band, 200 + k), column(band, 150 - k)));
    for (let i = 0; i < mirrored.length; i++) {
      expect(mirrored[i]).toBeLessThan(4);
      expect(unrelated[i]).toBeGreaterThan(mirrored[i] * 3);
    }

    const strip = await slide.readRegion({ level: 0, x: 0, y: SOURCE_HEIGHT - 300, width: SOURCE_WIDTH, height: 600 });
    for (const k of [0, 7, 120, 299]) {
      expect(meanAbsDiff(row(strip, 300 + k), row(strip, 299 - k))).toBeLessThan(4);
    }
    // The bottom-right corner is the source flipped both ways.
    const corner = await slide.readRegion({ level: 0, x: SOURCE_WIDTH, y: SOURCE_HEIGHT, width: 300, height: 300 });
    const original = await sharpRegion(kidneyRegionQuarter, 0, SOURCE_WIDTH - 300, SOURCE_HEIGHT - 300, 300, 300);
    const flipped = new Uint8Array(original.data.length);
    for (let y = 0; y < 300; y++) {
      for (let x = 0; x < 300; x++)
        flipped.set(
          original.data.subarray((y * 300 + x) * 3, (y * 300 + x) * 3 + 3),
          ((299 - y) * 300 + (299 - x)) * 3,
        );
    }
    expect(meanAbsDiff(corner.data, flipped)).toBeLessThan(4);
  });

  it('crops when the asked size is smaller than the source, and refuses impossible options', async () => {
    const small = await makeLargeSlide({
      source: kidneyRegionQuarter,
      out: path.join(folder, 'small.tif'),
      width: 1000,
      height: 1500,
      tileSize: 512,
    });
    const source = await GeoTiffSlideSource.open(small.path, 'small.tif');
    try {
      expect([source.metadata.width, source.metadata.height, source.metadata.tileWidth]).toEqual([1000, 1500, 512]);
      expect(source.metadata.mppX).toBeCloseTo(0.5, 6);
    } finally {
      await source.close();
    }
    await expect(
      makeLargeSlide({ source: kidneyRegionQuarter, out: path.join(folder, 'bad.tif'), width: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      makeLargeSlide({
        source: kidneyRegionQuarter,
        out: path.join(folder, 'bad.tif'),
        width: 512,
        tileSize: 300 as 256,
      }),
    ).rejects.toThrow(/256 or 512/);
    await expect(
      makeLargeSlide({ source: path.join(folder, 'missing.tif'), out: path.join(folder, 'bad.tif'), width: 512 }),
    ).rejects.toThrow(/cannot read the source image/);
  });
});
