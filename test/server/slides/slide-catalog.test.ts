import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlideCatalog } from '../../../server/src/slides/index.js';
import { cmuSmallRegion, dataDir, hubmapTile, kidneyRegionQuarter } from './test-data.js';
import { rejection } from '../../helpers/rejection.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-catalog-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('SlideCatalog over the shared data folder', () => {
  let catalog: SlideCatalog;
  beforeAll(async () => {
    catalog = await SlideCatalog.create({ folders: [dataDir] });
  });
  afterAll(() => catalog.close());

  it('lists slide files recursively with folder-relative ids', async () => {
    const slides = await catalog.list();
    const ids = slides.map((s) => s.id);
    expect(ids).toContain('wsi/CMU-1-Small-Region.svs');
    expect(ids).toContain('wsi/TCGA-CR-7395-01A-01-TS1-jp2k.svs');
    expect(ids).toContain('hubmap-vu/eval-region/kidney-region.tif');
    expect(ids).toContain('hubmap-vu/tiles/106.jpg');
    expect(ids.filter((id) => id.startsWith('hubmap-vu/tiles/'))).toHaveLength(108);
    expect(ids.some((id) => /\.(json|geojson|csv|md)$/.test(id))).toBe(false);
    expect([...ids].sort()).toEqual(ids);
    const cmu = slides.find((s) => s.id === 'wsi/CMU-1-Small-Region.svs')!;
    expect([cmu.name, cmu.fileSize]).toEqual(['CMU-1-Small-Region', 1938955]);
  });

  it('opens slides by id and reads them', async () => {
    const slide = await catalog.open('wsi/CMU-1-Small-Region.svs');
    expect(slide.metadata.id).toBe('wsi/CMU-1-Small-Region.svs');
    expect(slide.metadata.mppX).toBeCloseTo(0.499, 3);
    const region = await slide.readRegion({ level: 1, x: 0, y: 0, width: 64, height: 64 });
    expect(region.data.length).toBe(64 * 64 * 3);
    const tile = await catalog.open('hubmap-vu/tiles/106.jpg');
    expect([tile.metadata.format, tile.metadata.width]).toEqual(['jpeg', 1600]);
    const jp2k = await catalog.open('wsi/TCGA-CR-7395-01A-01-TS1-jp2k.svs');
    expect(jp2k.metadata.compression).toBe('jpeg2000');
    expect((await jp2k.readRegion({ level: 0, x: 0, y: 0, width: 8, height: 8 })).data.length).toBe(8 * 8 * 3); // tiff-codecs/jpeg2000.ts
  });

  it('never lets an id reach outside the folder', async () => {
    const invalid = [
      '../../etc/passwd',
      '/etc/passwd',
      'wsi/../wsi/CMU-1-Small-Region.svs',
      './wsi/CMU-1-Small-Region.svs',
      'wsi//CMU-1-Small-Region.svs',
      'wsi\\CMU-1-Small-Region.svs',
      'wsi/CMU-1-Small-Region.svs\0.tif',
      '',
      'C:/Windows/win.ini',
      '../eval-region/kidney-region.tif',
    ];
    for (const id of invalid) {
      const error = await rejection(catalog.open(id));
      expect(error.code, id).toBe('INVALID_ARGUMENT');
    }
    const passwd = await rejection(catalog.open('../../etc/passwd'));
    expect(passwd.message).toMatch(/'\.\.'/);
  });

  it('answers NOT_FOUND for unknown ids and for files that are not slides', async () => {
    const unknown = await rejection(catalog.open('wsi/no-such-slide.svs'));
    expect(unknown.code).toBe('NOT_FOUND');
    expect(unknown.message).toBe("no slide 'wsi/no-such-slide.svs' in the configured slide folders");
    expect((await rejection(catalog.open('hubmap-vu/tiles/106.json'))).code).toBe('NOT_FOUND');
    expect((await rejection(catalog.open('README.md'))).code).toBe('NOT_FOUND');
    expect((await rejection(catalog.open('wsi'))).code).toBe('NOT_FOUND');
  });
});

describe('SlideCatalog over several folders, symlinks and broken files', () => {
  let first: string;
  let second: string;
  beforeAll(async () => {
    first = path.join(tmp, 'lab', 'slides');
    second = path.join(tmp, 'other', 'slides');
    await mkdir(path.join(first, 'sub'), { recursive: true });
    await mkdir(second, { recursive: true });
    await copyFile(hubmapTile, path.join(first, 'sub', 'tile.jpg'));
    await copyFile(kidneyRegionQuarter, path.join(second, 'quarter.TIF'));
    await writeFile(path.join(first, 'broken.tif'), 'not a tiff at all');
    await symlink('/etc/passwd', path.join(first, 'escape.tif'));
    await symlink(path.dirname(cmuSmallRegion), path.join(first, 'outside'));
    await symlink(path.join(first, 'sub', 'tile.jpg'), path.join(first, 'inside-link.jpg'));
  });

  it('prefixes ids with the folder base name, made unique, when several folders are configured', async () => {
    const catalog = await SlideCatalog.create({ folders: [first, second] });
    try {
      const ids = (await catalog.list()).map((s) => s.id);
      expect(ids).toEqual([
        'slides-2/quarter.TIF',
        'slides/broken.tif',
        'slides/inside-link.jpg',
        'slides/sub/tile.jpg',
      ]);
      const quarter = await catalog.open('slides-2/quarter.TIF');
      expect(quarter.metadata.width).toBe(1600);
      expect((await rejection(catalog.open('quarter.TIF'))).code).toBe('NOT_FOUND');
      expect((await rejection(catalog.open('slides/outside/CMU-1-Small-Region.svs'))).code).toBe('INVALID_ARGUMENT');
      const escape = await rejection(catalog.open('slides/escape.tif'));
      expect(escape.code).toBe('INVALID_ARGUMENT');
      expect(escape.message).toMatch(/outside the configured slide folders/);
      expect((await catalog.open('slides/inside-link.jpg')).metadata.width).toBe(1600);
      for (let attempt = 0; attempt < 2; attempt++) {
        const broken = await rejection(catalog.open('slides/broken.tif'));
        expect(broken.code).toBe('INVALID_ARGUMENT');
        expect(broken.message).toMatch(/not a readable TIFF/);
      }
    } finally {
      await catalog.close();
    }
  });

  it('keeps few files open, and handles stay usable after their source is evicted', async () => {
    const catalog = await SlideCatalog.create({ folders: [dataDir], maxOpenSlides: 1 });
    const a = await catalog.open('wsi/CMU-1-Small-Region.svs');
    const b = await catalog.open('hubmap-vu/eval-region/kidney-region-quarter.tif');
    const region = { level: 0, x: 800, y: 1200, width: 300, height: 300 };
    const [fromA, fromB, again] = await Promise.all([a.readRegion(region), b.readRegion(region), a.readRegion(region)]);
    expect(Buffer.from(fromA.data).equals(Buffer.from(again.data))).toBe(true);
    expect(Buffer.from(fromA.data).equals(Buffer.from(fromB.data))).toBe(false);
    await catalog.close();
    expect((await rejection(catalog.open('wsi/CMU-1-Small-Region.svs'))).code).toBe('UNAVAILABLE');
    expect((await rejection(a.readRegion(region))).code).toBe('UNAVAILABLE');
  });

  it('serves single files added by path (the CLI case)', async () => {
    const catalog = await SlideCatalog.forFiles([cmuSmallRegion, path.join(first, 'sub', 'tile.jpg')]);
    try {
      const copy = path.join(tmp, 'copy');
      await mkdir(copy);
      await copyFile(cmuSmallRegion, path.join(copy, 'CMU-1-Small-Region.svs'));
      expect(await catalog.addFile(path.join(copy, 'CMU-1-Small-Region.svs'))).toBe('copy/CMU-1-Small-Region.svs');
      expect(await catalog.addFile(cmuSmallRegion)).toBe('CMU-1-Small-Region.svs');
      expect((await catalog.list()).map((s) => s.id)).toEqual([
        'CMU-1-Small-Region.svs',
        'copy/CMU-1-Small-Region.svs',
        'tile.jpg',
      ]);
      expect((await catalog.open('CMU-1-Small-Region.svs')).metadata.height).toBe(2967);
      expect((await rejection(catalog.open('../../etc/passwd'))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(catalog.addFile(path.join(dataDir, 'README.md')))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(catalog.addFile(path.join(tmp, 'missing.svs')))).code).toBe('NOT_FOUND');
    } finally {
      await catalog.close();
    }
  });

  it('refuses a slide folder that does not exist', async () => {
    expect((await rejection(SlideCatalog.create({ folders: [path.join(tmp, 'nope')] }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('SlideCatalog.list caches its folder walk', () => {
  it('walks once for concurrent and following calls, and lists a new file once the cache time has passed', async () => {
    const folder = path.join(tmp, 'walked');
    await mkdir(path.join(folder, 'sub'), { recursive: true });
    await copyFile(hubmapTile, path.join(folder, 'sub', 'a.jpg'));
    let now = 1_000;
    const catalog = await SlideCatalog.create({ folders: [folder], listCacheMs: 5_000, now: () => now });
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => catalog.list()));
      for (const slides of answers) expect(slides.map((s) => s.id)).toEqual(['sub/a.jpg']);
      expect(catalog.walks).toBe(1);

      // A file added now is not listed until the cache time has passed (it opens by id at once, though).
      await copyFile(hubmapTile, path.join(folder, 'b.jpg'));
      now += 4_999;
      expect((await catalog.list()).map((s) => s.id)).toEqual(['sub/a.jpg']);
      expect(catalog.walks).toBe(1);
      expect((await catalog.open('b.jpg')).metadata.width).toBe(1600);

      now += 2;
      const [first, second] = await Promise.all([catalog.list(), catalog.list()]);
      expect(first.map((s) => s.id)).toEqual(['b.jpg', 'sub/a.jpg']);
      expect(second).toEqual(first);
      expect(catalog.walks).toBe(2);
    } finally {
      await catalog.close();
    }
  });

  it('walks on every call with listCacheMs 0, still one walk for calls that overlap', async () => {
    const folder = path.join(tmp, 'uncached');
    await mkdir(folder, { recursive: true });
    await copyFile(hubmapTile, path.join(folder, 'a.jpg'));
    const catalog = await SlideCatalog.create({ folders: [folder], listCacheMs: 0 });
    try {
      await Promise.all([catalog.list(), catalog.list(), catalog.list()]);
      expect(catalog.walks).toBe(1);
      await copyFile(hubmapTile, path.join(folder, 'b.jpg'));
      expect((await catalog.list()).map((s) => s.id)).toEqual(['a.jpg', 'b.jpg']);
      expect(catalog.walks).toBe(2);
    } finally {
      await catalog.close();
    }
  });

  it('stops waiting for a walk when its caller cancels', async () => {
    const catalog = await SlideCatalog.create({ folders: [dataDir] });
    try {
      const controller = new AbortController();
      const listing = catalog.list(controller.signal);
      controller.abort();
      expect((await rejection(listing)).code).toBe('CANCELLED');
      expect((await catalog.list()).length).toBeGreaterThan(100);
    } finally {
      await catalog.close();
    }
  });
});
