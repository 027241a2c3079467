/**
 * <glomseg-overlay>'s events as a portal hears them, in Debian's Chromium against the real server, slide and model:
 * each is sent once per change (a wheel zoom sent about 30 identical glomseg-dice events and a zoom-out some 60
 * glomseg-progress events), and the map still streams while the user zooms and drags.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { GlomsegApp } from '../../../../server/src/app.js';
import { launchChromium, type Browser } from '../../browser.js';
import { startDemoApp } from '../../demo-app.js';

const TIMEOUT = 300_000;

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  app = await startDemoApp();
  browser = await launchChromium({ width: 1400, height: 900 });
  page = await browser.newPage();
  await page.addInitScript(() => {
    const w = window as any;
    w.__events = { progress: [], dice: [] };
    document.addEventListener('glomseg-progress', (e: any) => w.__events.progress.push(e.detail));
    document.addEventListener('glomseg-dice', (e: any) => w.__events.dice.push(e.detail));
  });
  await page.goto(`${app.httpUrl}/`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Every tile of the view in, no stream open, and the Dice of all of them sent. */
async function settled(p: Page): Promise<void> {
  await p.waitForFunction(
    () => {
      const overlay = (document.querySelector('glomseg-viewer') as any)?.overlay;
      const status = overlay?.shadowRoot?.querySelector('[part=status]');
      const grid = overlay?.grid;
      return (
        !!grid &&
        status?.dataset.streaming === 'false' &&
        status.dataset.received === status.dataset.total &&
        overlay.metrics?.tilesScored === grid.cols * grid.rows
      );
    },
    null,
    { timeout: TIMEOUT, polling: 100 },
  );
}

/** Neighbours in a list of event details that are the same (nothing changed between them). */
function repeats(details: unknown[]): number {
  let count = 0;
  for (let i = 1; i < details.length; i++) if (JSON.stringify(details[i]) === JSON.stringify(details[i - 1])) count++;
  return count;
}

describe('<glomseg-overlay> events', () => {
  it(
    'sends glomseg-dice and glomseg-progress only when their figures change, through wheel zooms',
    async () => {
      await settled(page);
      const before = await page.evaluate(() => (window as any).__events);
      expect(before.dice.length).toBeGreaterThan(0);
      expect(repeats(before.dice), 'identical glomseg-dice events while the slide streamed').toBe(0);
      expect(repeats(before.progress), 'identical glomseg-progress events while the slide streamed').toBe(0);

      await page.evaluate(() => {
        (window as any).__events = { progress: [], dice: [] };
      });
      const box = (await page.locator('glomseg-viewer [part=map]').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      // In, then out again to where it was: every tile is in already, so nothing new is scored.
      for (const delta of [-400, -400, 400, 400]) {
        await page.mouse.wheel(0, delta);
        await page.waitForFunction(
          () => !(document.querySelector('glomseg-viewer') as any).map.getView().getAnimating(),
          null,
          { timeout: 10_000 },
        );
        await page.waitForTimeout(300);
      }
      await settled(page);
      const zoomed = await page.evaluate(() => (window as any).__events);
      expect(zoomed.progress.length, 'the zoom changed the tiles in view').toBeGreaterThan(0);
      expect(repeats(zoomed.progress), 'identical glomseg-progress events during the zooms').toBe(0);
      expect(zoomed.dice, 'glomseg-dice events when no figure changed').toEqual([]);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT + 60_000,
  );
});
