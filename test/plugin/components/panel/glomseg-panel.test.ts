/**
 * The viewer's sidebar panel as a pathologist meets it (issue 29), in Debian's Chromium: a bad annotation file's
 * error wraps inside the panel and never moves the layout, and the next load replaces it; figures not yet known
 * read as a dash, not as a perfect score. Real server, real slides, real model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { GlomsegApp } from '../../../../server/src/app.js';
import { DATA, KIDNEY_REGION_GEOJSON } from '../../../helpers/paths.js';
import { openViewerPage, type Browser } from '../../browser.js';
import { startDemoApp } from '../../demo-app.js';

const TIMEOUT = 240_000;
const SPLITS_CSV = path.join(DATA, 'hubmap-vu/splits.csv');

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  app = await startDemoApp();
  ({ browser, page } = await openViewerPage(app.httpUrl!, { width: 1600, height: 1000 }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Where the sidebar's parts sit now: the panel's width, the sidebar's sideways scroll, the threshold read-out and Load button boxes. */
function layout(p: Page) {
  return p.evaluate(() => {
    const viewer = document.querySelector('glomseg-viewer') as any;
    const sidebar = viewer.shadowRoot.querySelector('[part=sidebar]') as HTMLElement;
    const root = viewer.overlay.shadowRoot as ShadowRoot;
    const box = (el: Element | null | undefined) => {
      const r = el!.getBoundingClientRect();
      return { x: r.x, width: r.width, right: r.right };
    };
    const load = [...root.querySelectorAll('[part=annotations] button')].find((b) => b.textContent === 'Load…');
    return {
      panelWidth: root.querySelector('[part=panel]')!.getBoundingClientRect().width,
      sidebarWidth: sidebar.getBoundingClientRect().width,
      scrollLeft: sidebar.scrollLeft,
      scrollsSideways: sidebar.scrollWidth > sidebar.clientWidth,
      threshold: box(root.querySelector('[part=controls] label span')),
      load: box(load),
    };
  });
}

async function pickAnnotations(p: Page, file: string): Promise<void> {
  await p.locator('glomseg-overlay [part=annotations] input[type=file]').setInputFiles(file);
}

describe('<glomseg-panel> in the viewer', () => {
  it(
    "wraps a bad annotation file's error inside the panel without moving anything, and the next load replaces it",
    async () => {
      await page
        .locator('glomseg-overlay [part=controls] label span')
        .filter({ hasText: /\d\.\d\d/ })
        .waitFor({ timeout: 60_000 });
      const before = await layout(page);
      expect(before.scrollsSideways).toBe(false);
      await pickAnnotations(page, SPLITS_CSV);
      const error = page.locator('glomseg-overlay [part=error]');
      await error.waitFor({ timeout: 30_000 });
      // The message quotes the file's header, one long unbroken string.
      expect(await error.textContent()).toContain('tile_id,slide,grid_row');
      const after = await layout(page);
      expect(after).toEqual(before);
      const errorBox = await error.boundingBox();
      // It wraps inside the panel: its right edge no further than the threshold read-out's, the panel's last column.
      expect(errorBox!.x + errorBox!.width).toBeLessThanOrEqual(before.threshold.right + 0.5);
      expect(errorBox!.height).toBeGreaterThan(40);
      // A valid file afterwards: loaded, and the old error gone.
      await pickAnnotations(page, KIDNEY_REGION_GEOJSON);
      await expect
        .poll(() => page.locator('glomseg-overlay [part=annotations]').textContent(), { timeout: 30_000 })
        .toContain(path.basename(KIDNEY_REGION_GEOJSON));
      expect(await error.count()).toBe(0);
      expect(await layout(page)).toEqual(before);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'shows a dash, not a perfect 1.000, for the mean Dice per square before any square is scored, and counts squares in words',
    async () => {
      // A fresh page opened close in on the slide's corner: the tiles it predicts cover no whole 1600 x 1200 square.
      const close = await browser.newPage();
      await close.goto(`${app.httpUrl}/#slide=kidney-region.tif&x=300&y=300&res=0.25`);
      await close.waitForFunction(() => (document.querySelector('glomseg-viewer') as any)?.overlay?.grid, null, {
        timeout: 60_000,
      });
      await pickAnnotations(close, KIDNEY_REGION_GEOJSON);
      await close.waitForFunction(() => (document.querySelector('glomseg-viewer') as any).overlay.metrics, null, {
        timeout: 120_000,
      });
      const metrics = await close.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.metrics);
      expect(metrics.diceTiles).toBe(0);
      const row = close.locator('glomseg-overlay [part=dice-mean-tile]');
      expect(await row.textContent()).toBe('–');
      expect(await row.locator('xpath=..').textContent()).toContain('(no squares yet)');
      // The whole slide: squares counted, each word as its count needs.
      await close.evaluate(() =>
        (document.querySelector('glomseg-viewer') as any).map.getView().fit([0, -1200, 1600, 0]),
      );
      await close.waitForFunction(
        () => (document.querySelector('glomseg-viewer') as any).overlay.metrics?.diceTiles > 0,
        null,
        { timeout: 120_000 },
      );
      const squares = await close.evaluate(
        () => (document.querySelector('glomseg-viewer') as any).overlay.metrics.diceTiles,
      );
      expect(await row.locator('xpath=..').textContent()).toContain(
        squares === 1 ? '(1 square)' : `(${squares} squares)`,
      );
      expect(await row.textContent()).toMatch(/^\d\.\d{3}$/);
      expect(close.errors).toEqual([]);
      await close.close();
    },
    TIMEOUT,
  );
});
