/**
 * The slide reader registry: readers chosen by what a file is (magic numbers) before what it is called, failures of
 * every reader that tried collected into one error, and the slide file endings derived from the readers.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSlideFile, SlideCatalog } from '../../../server/src/slides/index.js';
import { ImageFileSlideSource } from '../../../server/src/slides/image-file-slide-source.js';
import { hasExtension } from '../../../server/src/slides/slide-reader.js';
import { rankReaders, registerSlideReader, slideExtensions } from '../../../server/src/slides/slide-readers.js';
import { expandSlideArguments } from '../../../server/src/cli/score-command.js';
import { hubmapTile, kidneyRegionQuarter } from './test-data.js';
import { rejection } from '../../helpers/rejection.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-readers-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the slide reader registry', () => {
  it('lists the slide endings its readers register, once each', () => {
    // The OpenSlide reader's endings are there because setup.sh installs libopenslide0.
    expect(slideExtensions()).toEqual([
      '.tif',
      '.tiff',
      '.svs',
      '.btf',
      '.png',
      '.jpg',
      '.jpeg',
      '.ndpi',
      '.vms',
      '.vmu',
      '.mrxs',
      '.scn',
      '.bif',
      '.svslide',
    ]);
    expect(slideExtensions({ byUrl: true })).toEqual(['.tif', '.tiff', '.svs', '.btf']);
  });

  it('ranks by support: the magic number over the name, local readers for files, URL readers for URLs', async () => {
    const jpegBytes = await readFile(hubmapTile);
    const head = new Uint8Array(jpegBytes.subarray(0, 64));
    expect(rankReaders({ fileName: 'tile.tif', path: '/x/tile.tif', head }).map((r) => r.name)).toEqual([
      'image',
      'geotiff',
    ]);
    expect(rankReaders({ fileName: 'tile.jpg', path: '/x/tile.jpg', head }).map((r) => r.name)).toEqual(['image']);
    expect(rankReaders({ fileName: 'a.svs', path: '/x/a.svs', head: new Uint8Array(0) }).map((r) => r.name)).toEqual([
      'geotiff',
    ]);
    const url = { label: 'https://slides.example/a.svs', href: async () => 'https://slides.example/a.svs' };
    expect(rankReaders({ fileName: 'a.svs', url, head: new Uint8Array(0) }).map((r) => r.name)).toEqual([
      'remote-tiff',
    ]);
    expect(rankReaders({ fileName: 'a.png', url, head: new Uint8Array(0) })).toEqual([]);
  });

  it('opens a JPEG named .tif as the JPEG it is', async () => {
    const file = path.join(tmp, 'really-a-jpeg.tif');
    await copyFile(hubmapTile, file);
    const source = await openSlideFile(file, 'really-a-jpeg.tif');
    try {
      expect([source.metadata.format, source.metadata.width]).toEqual(['jpeg', 1600]);
    } finally {
      await source.close();
    }
  });

  it("a file no reader opens gets one error with every reader's reason, coded as the best-supported reader said", async () => {
    const file = path.join(tmp, 'broken.tif');
    await writeFile(file, new Uint8Array([0xff, 0xd8, 0xff, ...new Array(2000).fill(0)])); // a JPEG's magic number, then nothing
    const error = await rejection(openSlideFile(file, 'broken.tif'));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(
      /^broken\.tif: no slide reader could open it: image: .+; geotiff: not a readable TIFF: broken\.tif: the file does not start with a TIFF header/,
    );
  });

  it("one reader's failure stays as that reader said it", async () => {
    const file = path.join(tmp, 'empty.svs');
    await writeFile(file, new Uint8Array(0));
    const error = await rejection(openSlideFile(file, 'empty.svs'));
    expect([error.code, error.message]).toEqual([
      'INVALID_ARGUMENT',
      'not a readable TIFF: empty.svs: the file is empty',
    ]);
  });

  it('a name no reader claims is refused in words that list the slide endings', async () => {
    const error = await rejection(openSlideFile(path.join(tmp, 'notes.txt'), 'notes.txt'));
    expect([error.code, error.message]).toEqual([
      'INVALID_ARGUMENT',
      'notes.txt: no slide reader supports it (slide files end in .tif .tiff .svs .btf .png .jpg .jpeg .ndpi .vms .vmu .mrxs .scn .bif .svslide)',
    ]);
  });
});

describe('a new reader is one registration', () => {
  beforeAll(() => {
    // What a new reader's file holds: its name, endings, support and open. Nothing else changes.
    registerSlideReader({
      name: 'test-quarter',
      extensions: ['.quarter'],
      support: (probe) => (probe.path && hasExtension(probe, ['.quarter']) ? 1 : undefined),
      open: (probe, { id, signal }) => ImageFileSlideSource.open(probe.path!, id, signal),
    });
  });

  it('the catalog lists and opens its files, and the CLI expands folders to them', async () => {
    const folder = await mkdtemp(path.join(tmp, 'new-reader-'));
    await copyFile(hubmapTile, path.join(folder, 'tile.quarter'));
    await copyFile(kidneyRegionQuarter, path.join(folder, 'region.tif'));
    await writeFile(path.join(folder, 'notes.txt'), 'not a slide');
    const catalog = await SlideCatalog.create({ folders: [folder] });
    try {
      expect((await catalog.list()).map((s) => s.id)).toEqual(['region.tif', 'tile.quarter']);
      expect((await catalog.open('tile.quarter')).metadata.width).toBe(1600);
    } finally {
      await catalog.close();
    }
    expect((await expandSlideArguments([folder])).map((f) => path.basename(f))).toEqual(['region.tif', 'tile.quarter']);
    expect(() =>
      registerSlideReader({
        name: 'test-quarter',
        extensions: [],
        support: () => undefined,
        open: () => Promise.reject(new Error()),
      }),
    ).toThrow(/already registered/);
  });
});
