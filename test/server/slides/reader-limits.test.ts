/**
 * The two reader bounds (maxStoredBlocksPerRead, maxDecodedTileBytes) come from the configured limits, not the
 * defaults: through the catalog's options, and from a `serve --config` file through the app to the readers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlideCatalog } from '../../../server/src/slides/index.js';
import { GlomsegApp } from '../../../server/src/app.js';
import { resolveServeSecurity } from '../../../server/src/cli/serve-security.js';
import { MODELS, WSI } from '../../helpers/paths.js';
import { rejection } from '../../helpers/rejection.js';

const CMU = 'CMU-1-Small-Region.svs';
/** Level 0 of CMU-1-Small-Region.svs: 240 x 240 JPEG tiles; this window spans 3 x 3 of them. */
const NINE_TILES = { level: 0, x: 100, y: 100, width: 500, height: 500 };

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'glomseg-reader-limits-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the slide catalog hands its limits to the readers', () => {
  it('maxStoredBlocksPerRead: a read over more stored tiles is RESOURCE_EXHAUSTED, naming the configured bound', async () => {
    const catalog = await SlideCatalog.create({ folders: [WSI], limits: { maxStoredBlocksPerRead: 8 } });
    try {
      const slide = await catalog.open(CMU);
      const error = await rejection(slide.readRegion(NINE_TILES));
      expect(error.code).toBe('RESOURCE_EXHAUSTED');
      expect(error.message).toMatch(/spans 9 stored tiles .*at most 8 per read/);
      expect((await slide.readRegion({ ...NINE_TILES, width: 300 })).width).toBe(300); // 6 tiles: within
    } finally {
      await catalog.close();
    }
  });

  it('maxDecodedTileBytes: a stored tile that decodes to more is RESOURCE_EXHAUSTED', async () => {
    const catalog = await SlideCatalog.create({ folders: [WSI], limits: { maxDecodedTileBytes: 100_000 } });
    try {
      const error = await rejection(
        (await catalog.open(CMU)).readRegion({ level: 0, x: 0, y: 0, width: 16, height: 16 }),
      );
      expect(error.code).toBe('RESOURCE_EXHAUSTED');
      expect(error.message).toMatch(
        /240 x 240 pixel tiles \(172,800 bytes decoded each\); at most 100,000 bytes per tile/,
      );
    } finally {
      await catalog.close();
    }
  });
});

describe('a serve --config file', () => {
  let app: GlomsegApp;
  beforeAll(async () => {
    const config = path.join(tmp, 'serve.json');
    await writeFile(config, JSON.stringify({ limits: { maxStoredBlocksPerRead: 8 } }));
    const { limits } = await resolveServeSecurity({ config });
    app = await GlomsegApp.start({ slideFolders: [WSI], modelFolder: MODELS, httpPort: 0, device: 'cpu', limits });
  });
  afterAll(() => app?.close());

  it('bounds the stored tiles one read decodes', async () => {
    // A 512 x 512 viewer tile of the synthesised level 1 reads 1024 x 1024 level-0 pixels: more than 8 stored tiles.
    const response = await fetch(`${app.httpUrl}/api/slides/${CMU}/tiles/1/0/0`);
    expect(response.status).toBe(429); // RESOURCE_EXHAUSTED
    expect(await response.text()).toMatch(/at most 8 per read/);
    // A stored tile passes.
    expect((await fetch(`${app.httpUrl}/api/slides/${CMU}/tiles/0/0/0`)).status).toBe(200);
  });
});
