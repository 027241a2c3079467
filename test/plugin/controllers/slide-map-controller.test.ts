/**
 * The viewer's zoom limits (issue 29), in Debian's Chromium with the mouse wheel: no further out than the whole
 * slide, and no further in than 2x beyond full resolution (0.5 level-0 px per screen px). Real server and slides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { GlomsegApp } from '../../../server/src/app.js';
import { openViewerPage, type Browser } from '../browser.js';
import { startDemoApp } from '../demo-app.js';

const TIMEOUT = 120_000;

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  app = await startDemoApp();
  ({ browser, page } = await openViewerPage(app.httpUrl!, { width: 1400, height: 900 }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** The view's resolution, and the resolution at which the whole slide just fits the map. */
function zoomState(p: Page) {
  return p.evaluate(() => {
    const viewer = document.querySelector('glomseg-viewer') as any;
    const map = viewer.map;
    const view = map.getView();
    const [width, height] = map.getSize();
    const extent = view.getProjection().getExtent();
    return {
      resolution: view.getResolution(),
      wholeSlide: Math.max((extent[2] - extent[0]) / width, (extent[3] - extent[1]) / height),
    };
  });
}

async function wheel(p: Page, deltaY: number, times: number): Promise<void> {
  const box = (await p.locator('glomseg-viewer [part=map]').boundingBox())!;
  await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < times; i++) {
    await p.mouse.wheel(0, deltaY);
    await p.waitForTimeout(120);
  }
  // Let the wheel's zoom animation settle.
  await p.waitForFunction(() => !(document.querySelector('glomseg-viewer') as any).map.getView().getAnimating(), null, {
    timeout: 10_000,
  });
  await p.waitForTimeout(400);
}

describe("the viewer's zoom limits", () => {
  it(
    'zooms out no further than the whole slide and in no further than 2x beyond full resolution',
    async () => {
      await wheel(page, 400, 12);
      const out = await zoomState(page);
      // The whole slide with its 10 px margin.
      expect(out.resolution).toBeLessThanOrEqual(out.wholeSlide * 1.05);
      expect(out.resolution).toBeGreaterThan(out.wholeSlide * 0.5);
      await wheel(page, -400, 25);
      const close = await zoomState(page);
      expect(close.resolution).toBeGreaterThanOrEqual(0.5 - 1e-9);
      expect(close.resolution).toBeLessThan(1);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );
});
