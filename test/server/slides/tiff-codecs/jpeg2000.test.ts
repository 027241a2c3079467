/**
 * Aperio JPEG 2000 slides (TIFF compression 33003 YCbCr and 33005 RGB) open through the reader registry and read
 * the pixels Debian's OpenSlide reads. OpenSlide decodes with libopenjp2 and we with the same OpenJPEG built to
 * wasm (@cornerstonejs/codec-openjpeg), so 33005 tiles agree exactly. For 33003 the decoded Y, Cb and Cr agree
 * as well. With chroma at half width (as Aperio writes it) OpenJPEG's decoder converts to RGB itself, with
 * truncated float products (its color_sycc_to_rgb) where OpenSlide uses rounded fixed-point tables, so a sample
 * may differ by 1; with whole chroma we convert, with OpenSlide's tables, and agree exactly.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { RgbImage, SlideSource } from '@glomseg/shared/slide-source.js';
import { openSlideFile } from '../../../../server/src/slides/index.js';
import { cmuSmallRegion, crop, jpeg2000Svs } from '../test-data.js';
import { differences, openSlideRegion, writeAperioJp2k } from '../openslide-reference.js';

/** Largest difference allowed per sample (see the module comment). */
const EXACT = 0;
const SYCC_ROUNDING = 1;

function expectWithin(ours: RgbImage, theirs: RgbImage, tolerance: number, what: string): void {
  const diff = differences(ours, theirs);
  expect(diff.max, `${what}: largest difference (counts by size ${diff.counts.join(', ')})`).toBeLessThanOrEqual(
    tolerance,
  );
}

describe('the TCGA JPEG 2000 SVS (33005) against OpenSlide', () => {
  let source: SlideSource;
  beforeAll(async () => {
    source = await openSlideFile(jpeg2000Svs, 'jp2k');
  });
  afterAll(() => source?.close());

  it('opens as an Aperio slide of two stored levels, JPEG 2000 named', () => {
    const m = source.metadata;
    expect([m.format, m.compression]).toEqual(['aperio-svs', 'jpeg2000']);
    expect(m.levels.filter((l) => !l.synthesized).map((l) => [l.width, l.height])).toEqual([
      [4443, 3567],
      [2221, 1783],
    ]);
  });

  it.each([
    [1000, 1000, 600, 400], // across tile borders, in tissue
    [2000, 1500, 512, 512],
    [4443 - 300, 3567 - 200, 300, 200], // the partial tiles at the right and bottom
  ])('level 0 at (%i, %i), %i x %i: the same pixels', async (x, y, width, height) => {
    const ours = await source.readRegion({ level: 0, x, y, width, height });
    expectWithin(ours, await openSlideRegion(jpeg2000Svs, 0, x, y, width, height), EXACT, 'level 0');
  });

  it('level 1, whole and in a window across tiles: the same pixels', async () => {
    // OpenSlide places level-1 reads by level-0 coordinates (downsample 2.0005): only x = y = 0 lands on whole pixels.
    const theirs = await openSlideRegion(jpeg2000Svs, 1, 0, 0, 2221, 1783);
    expectWithin(
      await source.readRegion({ level: 1, x: 0, y: 0, width: 2221, height: 1783 }),
      theirs,
      EXACT,
      'level 1',
    );
    expectWithin(
      await source.readRegion({ level: 1, x: 700, y: 500, width: 400, height: 300 }),
      crop(theirs, 700, 500, 400, 300),
      EXACT,
      'level 1 window',
    );
  });
});

describe.each([
  [33005, '444', EXACT],
  [33003, '422', SYCC_ROUNDING],
  [33003, '444', EXACT],
] as const)(
  'an Aperio slide written with compression %i (chroma %s) against OpenSlide',
  (compression, chroma, tolerance) => {
    let tmp: string;
    let file: string;
    let source: SlideSource;
    beforeAll(async () => {
      tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-jp2k-'));
      file = path.join(tmp, `aperio-${compression}.svs`);
      await writeAperioJp2k(cmuSmallRegion, file, compression, chroma);
      source = await openSlideFile(file, `aperio-${compression}`);
    });
    afterAll(async () => {
      await source?.close();
      await rm(tmp, { recursive: true, force: true });
    });

    it('reads both levels whole as OpenSlide does', async () => {
      expect(source.metadata.compression).toBe('jpeg2000');
      for (const [level, width, height] of [
        [0, 1000, 744],
        [1, 500, 372],
      ]) {
        const ours = await source.readRegion({ level, x: 0, y: 0, width, height });
        const theirs = await openSlideRegion(file, level, 0, 0, width, height);
        expectWithin(ours, theirs, tolerance, `level ${level}`);
        // Not white or blank: the window holds tissue, so a wrong colour conversion could not pass.
        expect(
          differences(ours, { width, height, data: new Uint8Array(ours.data.length).fill(255) }).mean,
        ).toBeGreaterThan(20);
      }
    });
  },
);

describe('a JPEG 2000 tile that does not decode', () => {
  it("fails its reads with FAILED_PRECONDITION in OpenJPEG's words, and the other tiles still read", async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-jp2k-bad-'));
    try {
      const good = path.join(tmp, 'good.svs');
      await writeAperioJp2k(cmuSmallRegion, good, 33005);
      const bytes = new Uint8Array(await readFile(good));
      // The first codestream is tile (0, 0) of level 0: overwrite its header (SOC, SIZ) with zeros.
      const first = bytes.findIndex(
        (b, i) => b === 0xff && bytes[i + 1] === 0x4f && bytes[i + 2] === 0xff && bytes[i + 3] === 0x51,
      );
      bytes.fill(0, first, first + 64);
      const bad = path.join(tmp, 'bad.svs');
      await writeFile(bad, bytes);
      const source = await openSlideFile(bad, 'bad.svs');
      try {
        const error = await source.readRegion({ level: 0, x: 0, y: 0, width: 16, height: 16 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(GlomsegError);
        expect((error as GlomsegError).code).toBe('FAILED_PRECONDITION');
        expect((error as GlomsegError).message).toMatch(
          /^cannot decode block \(0, 0\) of stored level 0 of bad\.svs: OpenJPEG cannot decode the JPEG 2000 tile/,
        );
        expect((await source.readRegion({ level: 0, x: 300, y: 300, width: 16, height: 16 })).data.length).toBe(
          16 * 16 * 3,
        );
      } finally {
        await source.close();
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
