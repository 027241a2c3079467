/**
 * A slide that cannot be shown says why on the map itself (issue 29: a JPEG 2000 slide showed a plain white map),
 * and the pixel-size note never sits above that error. An unreadable .tif in a temporary folder the app serves,
 * beside the eval region's slides, in Debian's Chromium. Real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { GlomsegApp } from '../../../../server/src/app.js';
import { EVAL_REGION, MODELS } from '../../../helpers/paths.js';
import { launchChromium, type Browser } from '../../browser.js';

const TIMEOUT = 120_000;

let folder: string;
let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-broken-slide-'));
  // A TIFF header and nothing after it: the file is listed, and fails as it is opened.
  await writeFile(
    path.join(folder, 'broken-scan.tif'),
    Buffer.concat([Buffer.from('II*\0', 'binary'), Buffer.alloc(4096, 0x5a)]),
  );
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION, folder],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
  });
  browser = await launchChromium({ width: 1400, height: 900 });
  page = await browser.newPage();
  await page.goto(`${app.httpUrl}/`);
  await page.waitForFunction(() => (document.querySelector('glomseg-viewer') as any)?.overlay?.grid, null, {
    timeout: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await rm(folder, { recursive: true, force: true });
});

describe('<glomseg-viewer> and a slide it cannot show', () => {
  it(
    'puts the reason on the map, with no pixel-size note above it, and drops it when a good slide opens',
    async () => {
      await page.locator('glomseg-viewer [part=slide-list] button', { hasText: 'broken-scan' }).click();
      const onMap = page.locator('glomseg-viewer [part=map-error]');
      await onMap.waitFor({ timeout: 30_000 });
      expect(await onMap.isVisible()).toBe(true);
      expect(await onMap.textContent()).toMatch(/cannot be shown/);
      expect(await onMap.textContent()).toMatch(/broken-scan|TIFF|tiff|read/i);
      // On the map, not only in the sidebar.
      const map = (await page.locator('glomseg-viewer [part=map-area]').boundingBox())!;
      const box = (await onMap.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(map.x);
      expect(box.x + box.width).toBeLessThanOrEqual(map.x + map.width);
      expect(box.y).toBeGreaterThanOrEqual(map.y);
      expect(box.y + box.height).toBeLessThanOrEqual(map.y + map.height);
      // The sidebar's pixel-size note (of the slide shown before) does not stand above the error.
      const note = page.locator('glomseg-overlay [part=scale-note]');
      if (await note.count()) {
        const error = page.locator('glomseg-overlay [part=error], glomseg-viewer [part=error]').first();
        expect((await note.boundingBox())!.y).toBeGreaterThan((await error.boundingBox())!.y);
      }
      // With two folders served, ids carry their folder: pick the demo slide by its listed name.
      await page
        .locator('glomseg-viewer [part=slide-list] button')
        .filter({ hasText: /^\s*kidney-region\s+[\d.]+ MB/ })
        .click();
      await page.waitForFunction(
        () => /kidney-region\.tif$/.test((document.querySelector('glomseg-viewer') as any).overlay.grid?.slideId ?? ''),
        null,
        { timeout: 30_000 },
      );
      expect(await onMap.count()).toBe(0);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );
});
