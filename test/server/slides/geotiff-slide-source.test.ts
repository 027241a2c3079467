import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp, { type TiffOptions } from 'sharp';
import { fromFile } from 'geotiff';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { GeoTiffSlideSource } from '../../../server/src/slides/geotiff-slide-source.js';
import { tileCacheStats, TILE_CACHE_MAX_BYTES } from '../../../server/src/slides/tile-cache.js';
import {
  boxAverage,
  cmuSmallRegion,
  crop,
  hubmapTile,
  kidneyRegion,
  kidneyRegionQuarter,
  meanAbsDiff,
  sharpRegion,
  sharpRgb,
} from './test-data.js';
import { halve, writeTiledTiff } from './tiff-fixture.js';

/** Byte equality without vitest's slow element-by-element diff of large arrays. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const same = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(
    Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
  );
  if (!same) expect(meanAbsDiff(actual, expected), 'pixels differ').toBe(0);
}

async function geotiffRgb(
  file: string,
  imageIndex: number,
  x: number,
  y: number,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const tiff = await fromFile(file);
  try {
    const image = await tiff.getImage(imageIndex);
    return Uint8Array.from(
      (await image.readRGB({
        window: [x, y, x + width, y + height],
        interleave: true,
      })) as unknown as ArrayLike<number>,
    );
  } finally {
    await tiff.close();
  }
}

async function expectGlomsegError(promise: Promise<unknown>, codes: string[], message?: RegExp): Promise<GlomsegError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a rejection').toBeInstanceOf(GlomsegError);
  expect(codes).toContain((error as GlomsegError).code);
  if (message) expect((error as GlomsegError).message).toMatch(message);
  return error as GlomsegError;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-slides-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('GeoTiffSlideSource on kidney-region.tif (libtiff pyramid, JPEG YCbCr)', () => {
  let source: GeoTiffSlideSource;
  beforeAll(async () => {
    source = await GeoTiffSlideSource.open(kidneyRegion, 'kidney-region.tif');
  });
  afterAll(() => source.close());

  it('reports the five stored levels and no synthesised ones', () => {
    const m = source.metadata;
    expect(m.format).toBe('tiff');
    expect(m.compression).toBe('jpeg');
    expect([m.width, m.height, m.tileWidth, m.tileHeight, m.samplesPerPixel]).toEqual([6400, 4800, 256, 256, 3]);
    expect(m.levels.map((l) => [l.width, l.height, l.downsample, l.synthesized])).toEqual([
      [6400, 4800, 1, false],
      [3200, 2400, 2, false],
      [1600, 1200, 4, false],
      [800, 600, 8, false],
      [400, 300, 16, false],
    ]);
    expect(m.levels.map((l) => l.index)).toEqual([0, 1, 2, 3, 4]);
    expect(m.fileSize).toBe(14323714);
  });

  it('decodes (sharp fast path) like geotiff and like libvips, across tile boundaries', async () => {
    const region = { level: 0, x: 1000, y: 2000, width: 700, height: 520 };
    const ours = await source.readRegion(region);
    expect([ours.width, ours.height, ours.data.length]).toEqual([700, 520, 700 * 520 * 3]);
    expect(meanAbsDiff(ours.data, await geotiffRgb(kidneyRegion, 0, 1000, 2000, 700, 520))).toBeLessThan(2);
    expect(meanAbsDiff(ours.data, (await sharpRegion(kidneyRegion, 0, 1000, 2000, 700, 520)).data)).toBeLessThan(2);
    // not a flat image: the comparison means something
    const values = new Set(ours.data);
    expect(values.size).toBeGreaterThan(100);

    const level3 = await source.readRegion({ level: 3, x: 100, y: 150, width: 600, height: 300 });
    expect(meanAbsDiff(level3.data, (await sharpRegion(kidneyRegion, 3, 100, 150, 600, 300)).data)).toBeLessThan(2);
  });

  it('reads white outside the level', async () => {
    const region = await source.readRegion({ level: 4, x: -50, y: 250, width: 200, height: 100 });
    const inside = await source.readRegion({ level: 4, x: 0, y: 250, width: 150, height: 50 });
    expectSameBytes(crop(region, 50, 0, 150, 50).data, inside.data);
    expect(crop(region, 0, 0, 50, 100).data.every((v) => v === 255)).toBe(true); // left of the level
    expect(crop(region, 50, 50, 150, 50).data.every((v) => v === 255)).toBe(true); // below it
    const outside = await source.readRegion({ level: 0, x: 7000, y: -900, width: 64, height: 64 });
    expect(outside.data.every((v) => v === 255)).toBe(true);
  });

  it('agrees with kidney-region-quarter.tif, an independent encode of the same pixels', async () => {
    const quarter = await GeoTiffSlideSource.open(kidneyRegionQuarter, 'q');
    try {
      expect(quarter.metadata.levels.map((l) => [l.width, l.height])).toEqual([
        [1600, 1200],
        [800, 600],
        [400, 300],
      ]);
      const a = await quarter.readRegion({ level: 0, x: 0, y: 0, width: 1600, height: 1200 });
      const b = await source.readRegion({ level: 2, x: 0, y: 0, width: 1600, height: 1200 });
      expect(meanAbsDiff(a.data, b.data)).toBeLessThan(6);
    } finally {
      await quarter.close();
    }
  });

  it('passes native JPEG tiles through as complete JPEGs that decode to the same pixels', async () => {
    const jpeg = await source.readRawJpegTile(0, 3, 5);
    expect(jpeg).toBeInstanceOf(Uint8Array);
    expect([jpeg![0], jpeg![1], jpeg![jpeg!.length - 2], jpeg![jpeg!.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    const decoded = await sharpRgb(jpeg!);
    expect([decoded.width, decoded.height]).toEqual([256, 256]);
    const reference = await geotiffRgb(kidneyRegion, 0, 3 * 256, 5 * 256, 256, 256);
    expect(meanAbsDiff(decoded.data, reference)).toBeLessThan(2);
    await expectGlomsegError(source.readRawJpegTile(0, 25, 0), ['INVALID_ARGUMENT']);
  });

  it('refuses malformed and oversized requests with clear codes', async () => {
    await expectGlomsegError(
      source.readRegion({ level: 0, x: 0, y: 0, width: -5, height: 10 }),
      ['INVALID_ARGUMENT'],
      /width/,
    );
    await expectGlomsegError(
      source.readRegion({ level: 0, x: 0.5, y: 0, width: 5, height: 10 }),
      ['INVALID_ARGUMENT'],
      /x/,
    );
    await expectGlomsegError(source.readRegion({ level: 0, x: 0, y: 0, width: 2.5, height: 10 }), ['INVALID_ARGUMENT']);
    await expectGlomsegError(source.readRegion({ level: 0, x: 0, y: 0, width: 1e9, height: 1 }), ['INVALID_ARGUMENT']);
    await expectGlomsegError(source.readRegion({ level: 0, x: 0, y: 0, width: 0, height: 1 }), ['INVALID_ARGUMENT']);
    await expectGlomsegError(
      source.readRegion({ level: 5, x: 0, y: 0, width: 5, height: 5 }),
      ['INVALID_ARGUMENT'],
      /level 5/,
    );
    await expectGlomsegError(
      source.readRegion({ level: 0, x: 0, y: 0, width: 10000, height: 10000 }),
      ['RESOURCE_EXHAUSTED'],
      /Mpixel/,
    );
  });

  it('stops on an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expectGlomsegError(source.readRegion({ level: 0, x: 0, y: 0, width: 100, height: 100 }, controller.signal), [
      'CANCELLED',
    ]);
  });

  it('reads level 0 in 1024 x 1024 windows quickly, with the tile cache staying bounded', async () => {
    const start = performance.now();
    let checksum = 0;
    for (let y = 0; y < 4800; y += 1024) {
      for (let x = 0; x < 6400; x += 1024) {
        const window = await source.readRegion({ level: 0, x, y, width: 1024, height: 1024 });
        checksum += window.data[0];
      }
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`kidney-region.tif level 0 (6400x4800, 475 JPEG tiles) in 1024x1024 windows: ${seconds.toFixed(2)} s`);
    expect(checksum).toBeGreaterThan(0);
    expect(tileCacheStats().bytes).toBeLessThanOrEqual(TILE_CACHE_MAX_BYTES);
  });
});

describe('GeoTiffSlideSource on CMU-1-Small-Region.svs (Aperio, JPEG RGB, one level)', () => {
  let source: GeoTiffSlideSource;
  beforeAll(async () => {
    source = await GeoTiffSlideSource.open(cmuSmallRegion, 'CMU-1-Small-Region.svs');
  });
  afterAll(() => source.close());

  it('keeps thumbnail, label and macro out of the pyramid and synthesises levels', () => {
    const m = source.metadata;
    expect(m.format).toBe('aperio-svs');
    expect(m.mppX).toBeCloseTo(0.499, 3);
    expect(m.mppY).toBeCloseTo(0.499, 3);
    expect(m.mppSource).toBe('aperio');
    expect(m.metadata['aperio.AppMag']).toBe('20');
    expect(m.metadata['aperio.MPP']).toBe('0.4990');
    expect([m.tileWidth, m.tileHeight]).toEqual([240, 240]);
    expect(m.levels.map((l) => [l.width, l.height, l.synthesized])).toEqual([
      [2220, 2967, false],
      [1110, 1484, true],
      [555, 742, true],
    ]);
    expect(m.levels[1].downsample).toBe(2);
    expect(m.levels[2].downsample).toBe(4);
    expect(m.levels[1].tileWidth).toBe(0);
  });

  it('decodes Aperio RGB-coded JPEG tiles with the right colours', async () => {
    const x = 700;
    const y = 1100;
    const ours = await source.readRegion({ level: 0, x, y, width: 600, height: 500 });
    const reference = await geotiffRgb(cmuSmallRegion, 0, x, y, 600, 500);
    expect(new Set(reference).size).toBeGreaterThan(100);
    expect(meanAbsDiff(ours.data, reference)).toBeLessThan(2);
  });

  it('passes tiles through with an Adobe marker; without it a decoder gets the colours wrong', async () => {
    const jpeg = await source.readRawJpegTile(0, 4, 5);
    expect(jpeg).toBeDefined();
    const reference = await geotiffRgb(cmuSmallRegion, 0, 4 * 240, 5 * 240, 240, 240);
    expect(meanAbsDiff((await sharpRgb(jpeg!)).data, reference)).toBeLessThan(2);
    // The Adobe APP14 segment sits right after SOI; cut it out and libjpeg applies YCbCr->RGB to RGB data.
    expect([jpeg![2], jpeg![3], String.fromCharCode(...jpeg!.subarray(6, 11))]).toEqual([0xff, 0xee, 'Adobe']);
    const withoutMarker = new Uint8Array([...jpeg!.subarray(0, 2), ...jpeg!.subarray(18)]);
    expect(meanAbsDiff((await sharpRgb(withoutMarker)).data, reference)).toBeGreaterThan(10);
  });

  it('synthesised levels are the area average of level 0', async () => {
    const level0 = await source.readRegion({ level: 0, x: 0, y: 0, width: 2220, height: 2967 });
    const level2 = await source.readRegion({ level: 2, x: 0, y: 0, width: 555, height: 742 });
    expect(meanAbsDiff(level2.data, boxAverage(level0, 4).data)).toBeLessThan(0.01);
    const part = await source.readRegion({ level: 1, x: 1000, y: 1400, width: 300, height: 300 });
    const expected = boxAverage(crop(level0, 2000, 2800, 220, 167), 2); // 110 x 84 inside the level
    expectSameBytes(crop(part, 0, 0, 110, 84).data, expected.data);
    expect(crop(part, 110, 0, 190, 300).data.every((v) => v === 255)).toBe(true);
    expect(crop(part, 0, 84, 300, 216).data.every((v) => v === 255)).toBe(true);
  });

  it('returns undefined for raw tiles of synthesised levels', async () => {
    expect(await source.readRawJpegTile(1, 0, 0)).toBeUndefined();
  });
});

describe('GeoTiffSlideSource on a compression no codec decodes', () => {
  it('opens with the compression named, and reads fail with a clear FAILED_PRECONDITION', async () => {
    // 34892 (lossy JPEG of DNG) is registered by no codec (tiff-codecs/).
    const file = path.join(tmp, 'unknown-compression.tif');
    const rgb = new Uint8Array(512 * 512 * 3).fill(200);
    await writeFile(file, writeTiledTiff([{ width: 512, height: 512, tileSize: 256, rgb, tags: { 259: 34892 } }]));
    const source = await GeoTiffSlideSource.open(file, 'unknown');
    try {
      expect(source.metadata.compression).toBe('tiff-compression-34892');
      for (const level of [0, source.metadata.levels.length - 1]) {
        await expectGlomsegError(
          source.readRegion({ level, x: 0, y: 0, width: 64, height: 64 }),
          ['FAILED_PRECONDITION'],
          /unsupported compression: tiff-compression-34892 \(TIFF compression 34892\) cannot be decoded here; convert the slide/,
        );
      }
      expect(await source.readRawJpegTile(0, 0, 0)).toBeUndefined();
    } finally {
      await source.close();
    }
  });
});

describe('GeoTiffSlideSource on TIFFs written at test time from a real tile', () => {
  let tile: RgbImage;
  beforeAll(async () => {
    const decoded = await sharpRgb(hubmapTile);
    tile = crop(decoded, 100, 50, 700, 500); // not a multiple of the tile size: edge tiles are partial
  });

  async function writeWithSharp(name: string, options: TiffOptions): Promise<string> {
    const file = path.join(tmp, name);
    await sharp(tile.data, { raw: { width: tile.width, height: tile.height, channels: 3 } })
      .tiff(options)
      .toFile(file);
    return file;
  }

  for (const [compression, bigtiff] of [
    ['lzw', false],
    ['deflate', false],
    ['none', false],
    ['lzw', true],
    ['deflate', true],
  ] as const) {
    it(`reads a ${bigtiff ? 'BigTIFF' : 'TIFF'} pyramid with ${compression} compression losslessly`, async () => {
      const file = await writeWithSharp(`${compression}${bigtiff ? '-big' : ''}.tif`, {
        tile: true,
        pyramid: true,
        compression,
        bigtiff,
        tileWidth: 128,
        tileHeight: 128,
      });
      const source = await GeoTiffSlideSource.open(file, 'x');
      try {
        const m = source.metadata;
        expect(m.format).toBe(bigtiff ? 'bigtiff' : 'tiff');
        expect(m.compression).toBe(compression);
        expect([m.width, m.height, m.tileWidth]).toEqual([700, 500, 128]);
        expect(m.levels[1]).toMatchObject({ width: 350, height: 250, synthesized: false });
        const level0 = await source.readRegion({ level: 0, x: 0, y: 0, width: 700, height: 500 });
        expectSameBytes(level0.data, tile.data);
        const level1 = await source.readRegion({ level: 1, x: 0, y: 0, width: 350, height: 250 });
        expectSameBytes(level1.data, (await sharpRegion(file, 1, 0, 0, 350, 250)).data);
        expect(await source.readRawJpegTile(0, 0, 0)).toBeUndefined();
      } finally {
        await source.close();
      }
    });
  }

  it('reads a JPEG-compressed pyramid written by libvips', async () => {
    const file = await writeWithSharp('jpeg.tif', { tile: true, pyramid: true, compression: 'jpeg', quality: 95 });
    const source = await GeoTiffSlideSource.open(file, 'x');
    try {
      const level0 = await source.readRegion({ level: 0, x: 0, y: 0, width: 700, height: 500 });
      expect(meanAbsDiff(level0.data, tile.data)).toBeLessThan(3);
      expect(meanAbsDiff(level0.data, (await sharpRegion(file, 0, 0, 0, 700, 500)).data)).toBeLessThan(2);
      const raw = await source.readRawJpegTile(0, 1, 1);
      expect(meanAbsDiff((await sharpRgb(raw!)).data, await geotiffRgb(file, 0, 256, 256, 256, 256))).toBeLessThan(2);
    } finally {
      await source.close();
    }
  });

  it('takes the pixel size from XResolution in pixels per centimetre, and ignores the default resolution', async () => {
    const withResolution = await writeWithSharp('res.tif', {
      tile: true,
      compression: 'lzw',
      xres: 2000,
      yres: 2000,
      resolutionUnit: 'cm',
    });
    const a = await GeoTiffSlideSource.open(withResolution, 'a');
    expect(a.metadata.mppX).toBeCloseTo(0.5, 6);
    expect(a.metadata.mppSource).toBe('tiff-resolution');
    await a.close();
    const withDefault = await writeWithSharp('nores.tif', { tile: true, compression: 'lzw' });
    const b = await GeoTiffSlideSource.open(withDefault, 'b');
    expect(b.metadata.mppX).toBeUndefined();
    expect(b.metadata.mppSource).toBe('');
    await b.close();
  });

  it('reads an OME-TIFF whose pyramid is in SubIFDs, with the pixel size from OME-XML', async () => {
    const level1 = halve(tile.data, tile.width, tile.height);
    const ome = `<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0" Name="kidney"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" SizeX="700" SizeY="500" SizeC="3" SizeZ="1" SizeT="1" PhysicalSizeX="250" PhysicalSizeXUnit="nm" PhysicalSizeY="0.25" PhysicalSizeYUnit="µm"><Channel ID="Channel:0:0" SamplesPerPixel="3"/></Pixels></Image></OME>`;
    const file = path.join(tmp, 'pyramid.ome.tif');
    await writeFile(
      file,
      writeTiledTiff(
        [{ width: 700, height: 500, tileSize: 256, rgb: tile.data, description: ome }],
        [{ width: level1.width, height: level1.height, tileSize: 256, rgb: level1.rgb, subfileType: 1 }],
      ),
    );
    const source = await GeoTiffSlideSource.open(file, 'ome');
    try {
      const m = source.metadata;
      expect(m.format).toBe('ome-tiff');
      expect(m.compression).toBe('none');
      expect(m.mppX).toBeCloseTo(0.25, 9);
      expect(m.mppY).toBeCloseTo(0.25, 9);
      expect(m.mppSource).toBe('ome');
      expect(m.metadata['ome.SizeX']).toBe('700');
      expect(m.levels.map((l) => [l.width, l.height, l.synthesized])).toEqual([
        [700, 500, false],
        [350, 250, false],
      ]);
      expectSameBytes((await source.readRegion({ level: 0, x: 0, y: 0, width: 700, height: 500 })).data, tile.data);
      expectSameBytes((await source.readRegion({ level: 1, x: 0, y: 0, width: 350, height: 250 })).data, level1.rgb);
    } finally {
      await source.close();
    }
  });
});

describe('GeoTiffSlideSource on broken files', () => {
  async function expectUnreadable(file: string): Promise<void> {
    // Either open refuses, or it succeeds and every read of a damaged part refuses: never another error, never a hang.
    let source: GeoTiffSlideSource;
    try {
      source = await GeoTiffSlideSource.open(file, 'broken');
    } catch (error) {
      expect(error).toBeInstanceOf(GlomsegError);
      expect(['INVALID_ARGUMENT', 'FAILED_PRECONDITION']).toContain((error as GlomsegError).code);
      expect((error as GlomsegError).message).toMatch(/not a readable TIFF/);
      return;
    }
    try {
      let refused = 0;
      for (const level of source.metadata.levels) {
        const region = {
          level: level.index,
          x: Math.max(0, level.width - 300),
          y: Math.max(0, level.height - 300),
          width: 300,
          height: 300,
        };
        const error = await source.readRegion(region).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error === undefined) continue;
        expect(error).toBeInstanceOf(GlomsegError);
        expect(['INVALID_ARGUMENT', 'FAILED_PRECONDITION']).toContain((error as GlomsegError).code);
        expect((error as GlomsegError).message).toMatch(/not a readable TIFF|cannot decode/);
        refused++;
      }
      // A file cut after its last tile of the kept levels opens, but says directories were lost.
      if (refused === 0) expect(source.metadata.metadata['glomseg.warning']).toMatch(/truncated/);
    } finally {
      await source.close();
    }
  }

  it('refuses an empty file, random bytes and text named .tif', async () => {
    const empty = path.join(tmp, 'empty.tif');
    await writeFile(empty, new Uint8Array(0));
    await expectGlomsegError(GeoTiffSlideSource.open(empty, 'e'), ['INVALID_ARGUMENT'], /not a readable TIFF: .*empty/);
    const random = path.join(tmp, 'random.tif');
    await writeFile(
      random,
      Uint8Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24),
    );
    await expectUnreadable(random);
    const text = path.join(tmp, 'text.tif');
    await writeFile(text, 'this is not an image\n'.repeat(20));
    await expectGlomsegError(GeoTiffSlideSource.open(text, 't'), ['INVALID_ARGUMENT'], /not a readable TIFF/);
  });

  it.each([
    ['ImageWidth 2^31', { 256: 2 ** 31 }, /width 2147483648/],
    ['ImageWidth 2^32 - 1', { 256: 2 ** 32 - 1 }, /width 4294967295/],
    ['ImageLength 2^31', { 257: 2 ** 31 }, /height 2147483648/],
    ['ImageWidth 2^30 + 1, past any addressable coordinate', { 256: 2 ** 30 + 1 }, /width 1073741825/],
    ['TileWidth 2^31', { 322: 2 ** 31 }, /tile width 2147483648/],
    ['TileLength 2^31', { 323: 2 ** 31 }, /tile height 2147483648/],
    ['SamplesPerPixel 2^31', { 277: 2 ** 31 }, /2147483648 samples per pixel/],
  ])('refuses a crafted file with %s as not a readable TIFF, naming the bound', async (name, tags, detail) => {
    const file = path.join(tmp, `crafted-${name.replace(/\W+/g, '-')}.tif`);
    await writeFile(
      file,
      writeTiledTiff([{ width: 256, height: 256, tileSize: 256, rgb: new Uint8Array(256 * 256 * 3), tags }]),
    );
    const error = await expectGlomsegError(
      GeoTiffSlideSource.open(file, 'crafted'),
      ['INVALID_ARGUMENT'],
      /^not a readable TIFF: crafted-.*\.tif: /,
    );
    expect(error.message).toMatch(detail);
    expect(error.message).toMatch(/at most (1073741824|65535)/);
  });

  it('still opens a file at the bounds of a real slide (2^16 pixel tiles are legal, only unreadable)', async () => {
    const file = path.join(tmp, 'big-tile-tag.tif');
    await writeFile(
      file,
      writeTiledTiff([
        {
          width: 256,
          height: 256,
          tileSize: 256,
          rgb: new Uint8Array(256 * 256 * 3),
          tags: { 322: 2 ** 16, 323: 2 ** 16 },
        },
      ]),
    );
    const source = await GeoTiffSlideSource.open(file, 'big-tile-tag');
    try {
      expect(source.metadata.tileWidth).toBe(2 ** 16);
    } finally {
      await source.close();
    }
  });

  it('refuses truncated copies of real slides', async () => {
    const bytes = await readFile(kidneyRegion);
    for (const length of [12, 4000, Math.floor(bytes.length / 2), bytes.length - 1000]) {
      const file = path.join(tmp, `truncated-${length}.tif`);
      await writeFile(file, bytes.subarray(0, length));
      await expectUnreadable(file);
    }
    const svs = await readFile(cmuSmallRegion);
    const file = path.join(tmp, 'truncated.svs');
    await writeFile(file, svs.subarray(0, Math.floor(svs.length * 0.6)));
    await expectUnreadable(file);
  });

  it('does not hang on an IFD chain that loops or a garbage BigTIFF directory', async () => {
    // Classic TIFF, one IFD at offset 8 with one entry (ImageWidth) whose next-IFD pointer points back to itself.
    const loop = new Uint8Array(64);
    const view = new DataView(loop.buffer);
    loop.set([0x49, 0x49, 42, 0], 0);
    view.setUint32(4, 8, true);
    view.setUint16(8, 1, true);
    view.setUint16(10, 256, true);
    view.setUint16(12, 3, true);
    view.setUint32(14, 1, true);
    view.setUint16(18, 100, true);
    view.setUint32(22, 8, true);
    const loopFile = path.join(tmp, 'loop.tif');
    await writeFile(loopFile, loop);
    await expectUnreadable(loopFile);

    // BigTIFF header whose first directory claims 2^40 entries.
    const big = new Uint8Array(64);
    const bigView = new DataView(big.buffer);
    big.set([0x49, 0x49, 43, 0, 8, 0, 0, 0], 0);
    bigView.setBigUint64(8, 16n, true);
    bigView.setBigUint64(16, 1n << 40n, true);
    const bigFile = path.join(tmp, 'garbage.btf');
    await writeFile(bigFile, big);
    await expectUnreadable(bigFile);
  });
});
