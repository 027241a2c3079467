/**
 * TIFFs in the compressions geotiff decodes besides the classic ones (zstd, LERC, WebP), made by libtiff's tiffcp
 * from an uncompressed tiled TIFF, open through the reader registry and read OpenSlide's pixels (its generic-TIFF
 * reader decodes them with the same libtiff). zstd and LERC (tiffcp's default, max_z_error 0) are lossless, so
 * the pixels also equal the uncompressed original; WebP is lossy, and both sides decode it with libwebp.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSlideFile } from '../../../../server/src/slides/index.js';
import { cmuSmallRegion } from '../test-data.js';
import { differences, openSlideRegion, tiffcp, writeReferenceTiff } from '../openslide-reference.js';

const WIDTH = 1000;
const HEIGHT = 744;

let tmp: string;
let original: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-codecs-'));
  original = path.join(tmp, 'original.tif');
  await writeReferenceTiff(cmuSmallRegion, original);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function readWhole(file: string) {
  const source = await openSlideFile(file, path.basename(file));
  try {
    return {
      metadata: source.metadata,
      pixels: await source.readRegion({ level: 0, x: 0, y: 0, width: WIDTH, height: HEIGHT }),
    };
  } finally {
    await source.close();
  }
}

describe.each([
  ['zstd', 'zstd', true],
  ['lerc', 'lerc', true],
  ['webp', 'webp', false],
] as const)('a %s TIFF', (codec, name, lossless) => {
  it('reads the pixels OpenSlide reads', async () => {
    const file = path.join(tmp, `${codec}.tif`);
    await tiffcp(original, file, codec);
    const { metadata, pixels } = await readWhole(file);
    expect(metadata.compression).toBe(name);
    const theirs = await openSlideRegion(file, 0, 0, 0, WIDTH, HEIGHT);
    const diff = differences(pixels, theirs);
    expect(diff.max, `largest difference from OpenSlide (counts by size ${diff.counts.join(', ')})`).toBe(0);
    const fromOriginal = differences(pixels, await openSlideRegion(original, 0, 0, 0, WIDTH, HEIGHT));
    if (lossless) expect(fromOriginal.max).toBe(0);
    else expect(fromOriginal.mean).toBeLessThan(10); // lossy (tiffcp's default quality 75: 5.5 on average), yet the same picture
  });
});
