/**
 * How the overlay's predictions look (issue 29, missing), through its public properties as a portal sets them, in
 * Debian's Chromium against the real demo app: `outline` leaves the tissue inside a glomerulus as it is without
 * predictions, `heatmap` colours it with the server's probability at that pixel (viridis) at `heatmapOpacity`. Read from the
 * screen's pixels inside the largest predicted glomerulus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { GlomsegApp } from '../../../server/src/app.js';
import { openViewerPage, type Browser } from '../browser.js';
import { startDemoApp } from '../demo-app.js';
import {
  heatmapColourAt,
  insideLargestGlomerulus,
  pixelDistance,
  screenPixel,
  waitForScoredView,
} from '../fixtures/viewer-pixels.js';

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  app = await startDemoApp();
  ({ browser, page } = await openViewerPage(app.httpUrl!, { width: 1366, height: 768 }));
  await waitForScoredView(page);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const setOverlay = (p: Page, values: Record<string, unknown>) =>
  p.evaluate(async (v) => {
    const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
    Object.assign(overlay, v);
    await overlay.updateComplete;
  }, values);

describe("the overlay's display properties", () => {
  it("outline: no fill inside a glomerulus; heatmap: the server's probability at that pixel in viridis at the given opacity", async () => {
    const point = await insideLargestGlomerulus(page);
    const filled = await screenPixel(page, point.x, point.y);
    await setOverlay(page, { visible: false });
    const bare = await screenPixel(page, point.x, point.y);
    await setOverlay(page, { visible: true });
    expect(pixelDistance(filled, bare)).toBeGreaterThan(10);

    await setOverlay(page, { outline: true });
    expect(pixelDistance(await screenPixel(page, point.x, point.y), bare)).toBeLessThanOrEqual(2);
    await setOverlay(page, { heatmap: true, heatmapOpacity: 1 });
    // The server's probability at that pixel (not the glomerulus's mean), where the raster is flat enough to compare.
    const heat = await heatmapColourAt(page, app.grpcAddress, point);
    expect(heat.spread).toBeLessThanOrEqual(8);
    expect(pixelDistance(await screenPixel(page, point.x, point.y), heat.colour)).toBeLessThanOrEqual(4);
    await setOverlay(page, { heatmapOpacity: 0.5 });
    const half = heat.colour.map((c, i) => 0.5 * c + 0.5 * bare[i]);
    expect(pixelDistance(await screenPixel(page, point.x, point.y), half)).toBeLessThanOrEqual(4);
    await setOverlay(page, { heatmap: false, outline: false });
    expect(pixelDistance(await screenPixel(page, point.x, point.y), filled)).toBeLessThanOrEqual(2);
    // The heatmap asked the model-tile loader for nothing of its own: no stream was opened by drawing it.
    expect(page.errors).toEqual([]);
  });
});
