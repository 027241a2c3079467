/**
 * The OpenSlide-backed reader (libopenslide0 through koffi) against the native readers on the slides in
 * ../shared: CMU-1-Small-Region.svs (JPEG tiles) and the TCGA JPEG 2000 SVS, opened by both, read the same.
 * No NDPI, MRXS, SCN, BIF or Philips slide is in ../shared, so for its own formats only the choice of reader and
 * the refusal of a file that is not one are checked here.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { RegionRequest, SlideSource } from '@glomseg/shared/slide-source.js';
import { openSlideFile, SlideCatalog } from '../../../../server/src/slides/index.js';
import { DEFAULT_READER_LIMITS } from '../../../../server/src/slides/slide-reader.js';
import { probeFile, rankReaders, slideReaders } from '../../../../server/src/slides/slide-readers.js';
import { cmuSmallRegion, jpeg2000Svs } from '../test-data.js';
import { differences } from '../openslide-reference.js';

async function withOpenSlide(file: string): Promise<SlideSource> {
  const reader = slideReaders().find((r) => r.name === 'openslide')!;
  return reader.open(await probeFile(file, path.basename(file)), {
    id: path.basename(file),
    limits: DEFAULT_READER_LIMITS,
  });
}

describe.each([
  [
    'CMU-1-Small-Region.svs (JPEG)',
    cmuSmallRegion,
    [
      { level: 0, x: 0, y: 0, width: 2220, height: 2967 },
      { level: 1, x: 100, y: 200, width: 700, height: 500 }, // synthesised by both from level 0
    ],
  ],
  [
    'the TCGA JPEG 2000 SVS',
    jpeg2000Svs,
    [
      { level: 0, x: 1000, y: 1000, width: 900, height: 700 },
      { level: 1, x: 0, y: 0, width: 2221, height: 1783 },
    ],
  ],
] as const)(
  '%s through the OpenSlide reader and the geotiff reader',
  (_name, file, regions: readonly RegionRequest[]) => {
    let openslide: SlideSource;
    let geotiff: SlideSource;
    beforeAll(async () => {
      openslide = await withOpenSlide(file);
      geotiff = await openSlideFile(file, path.basename(file));
    });
    afterAll(async () => {
      await openslide?.close();
      await geotiff?.close();
    });

    it('describes the same pyramid and pixel size', () => {
      expect(openslide.metadata.format).toBe('openslide-aperio');
      expect(openslide.metadata.levels).toEqual(geotiff.metadata.levels);
      expect(openslide.metadata.mppX).toBe(geotiff.metadata.mppX);
    });

    it.each(regions)('reads the same pixels: %o', async (region) => {
      const diff = differences(await openslide.readRegion(region), await geotiff.readRegion(region));
      expect(diff.max, `counts by size ${diff.counts.join(', ')}`).toBe(0);
    });
  },
);

describe('the vendor formats only OpenSlide reads', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-openslide-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('are chosen by their endings, listed by the catalog, and a file that is not one is refused in words', async () => {
    const file = path.join(tmp, 'not-really.ndpi');
    await writeFile(file, 'II*\0 but not a Hamamatsu slide');
    // A TIFF header: geotiff is the fallback.
    expect(rankReaders(await probeFile(file, 'not-really.ndpi')).map((r) => r.name)).toEqual(['openslide', 'geotiff']);
    const catalog = await SlideCatalog.create({ folders: [tmp] });
    try {
      expect((await catalog.list()).map((s) => s.id)).toEqual(['not-really.ndpi']);
      const error = await catalog.open('not-really.ndpi').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GlomsegError);
      expect((error as GlomsegError).code).toBe('INVALID_ARGUMENT');
      expect((error as GlomsegError).message).toMatch(
        /^not-really\.ndpi: no slide reader could open it: openslide: not a slide OpenSlide reads: not-really\.ndpi; geotiff: not a readable TIFF: not-really\.ndpi: /,
      );
    } finally {
      await catalog.close();
    }
  });
});
