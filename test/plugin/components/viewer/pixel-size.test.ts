/**
 * The viewer's pixel-size control (issue 29, broken 4), in Debian's Chromium: the quarter-scale slide, read at the
 * model's assumed 0.5 µm/px, finds no glomeruli and says so prominently, naming the control that fixes it; 2 µm/px
 * typed there finds them, goes into the share link, and the link opens at 2 µm/px again. Where the assumed scale
 * finds glomeruli (the demo slide) the note is one quiet line with its details folded away. Real server, slides, model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { GlomsegApp } from '../../../../server/src/app.js';
import { launchChromium, type Browser } from '../../browser.js';
import { DEMO_SLIDE, startDemoApp } from '../../demo-app.js';

const QUARTER = 'kidney-region-quarter.tif';
const TIMEOUT = 400_000;

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  app = await startDemoApp();
  browser = await launchChromium({ width: 1600, height: 1000 });
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Waits until the overlay streams `slide` and every tile of the view is in; the glomeruli drawn. */
async function viewDone(p: Page, slide: string, timeout = 300_000): Promise<number> {
  await p.waitForFunction(
    (id) => {
      const overlay = (document.querySelector('glomseg-viewer') as any)?.overlay;
      const status = overlay?.shadowRoot?.querySelector('[part=status]');
      return (
        overlay?.grid?.slideId === id &&
        status?.dataset.streaming === 'false' &&
        Number(status.dataset.total) > 0 &&
        status.dataset.received === status.dataset.total
      );
    },
    slide,
    { timeout },
  );
  return Number(await p.locator('glomseg-overlay [part=status]').getAttribute('data-polygons'));
}

describe('<glomseg-viewer> pixel size', () => {
  it(
    'says prominently that the assumed scale finds nothing, names the Pixel size box, and 2 µm/px typed there finds glomeruli and goes into the link',
    async () => {
      await page.goto(`${app.httpUrl}/#slide=${QUARTER}`);
      expect(await viewDone(page, QUARTER)).toBe(0);
      const note = page.locator('glomseg-overlay [part=scale-note]');
      await expect.poll(() => note.getAttribute('data-level'), { timeout: 30_000 }).toBe('prominent');
      expect(await note.textContent()).toMatch(/Pixel size/);
      expect(await note.textContent()).not.toMatch(/mpp-override/);
      const box = page.locator('glomseg-overlay [part=pixel-size] input');
      expect(await box.inputValue()).toBe('');
      await box.fill('2');
      await box.press('Enter');
      await page.waitForFunction(
        () => (document.querySelector('glomseg-viewer') as any).overlay.grid?.mppAssumed === 2,
        null,
        { timeout: 60_000 },
      );
      expect(await viewDone(page, QUARTER)).toBeGreaterThan(0);
      expect(await note.count()).toBe(0);
      await expect.poll(() => page.evaluate(() => new URLSearchParams(location.hash.slice(1)).get('mpp'))).toBe('2');
      // The link opens the slide at 2 µm/px again.
      const link = page.url();
      const again = await browser.newPage();
      await again.goto(link);
      await again.waitForFunction(
        () => (document.querySelector('glomseg-viewer') as any)?.overlay?.grid?.mppAssumed === 2,
        null,
        { timeout: 60_000 },
      );
      expect(await again.locator('glomseg-overlay [part=pixel-size] input').inputValue()).toBe('2');
      expect(await again.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.grid.mppSource)).toBe(
        'request',
      );
      await again.close();
      // An emptied box goes back to the slide's own scale (the model's default here).
      await box.fill('');
      await box.press('Enter');
      await page.waitForFunction(
        () => (document.querySelector('glomseg-viewer') as any).overlay.grid?.mppSource === 'model-default',
        null,
        { timeout: 60_000 },
      );
      await expect.poll(() => page.evaluate(() => new URLSearchParams(location.hash.slice(1)).get('mpp'))).toBeNull();
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'keeps the note to one quiet line, its details folded, where the assumed scale finds glomeruli',
    async () => {
      await page.goto(`${app.httpUrl}/#slide=${DEMO_SLIDE}`);
      await page.reload();
      expect(await viewDone(page, DEMO_SLIDE)).toBeGreaterThan(0);
      const note = page.locator('glomseg-overlay [part=scale-note]');
      await expect.poll(() => note.getAttribute('data-level'), { timeout: 30_000 }).toBe('quiet');
      const folded = await note.boundingBox();
      // One 18 px line inside the box's 14 px of padding and border (two lines would be over 50).
      expect(folded!.height).toBeLessThan(40);
      await note.locator('summary').click();
      expect((await note.boundingBox())!.height).toBeGreaterThan(folded!.height + 20);
      expect(await note.textContent()).toMatch(/0\.50 µm\/px.*Pixel size/s);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'says so when the link names a slide the server does not have, instead of silently opening another',
    async () => {
      await page.goto(`${app.httpUrl}/#slide=no-such-slide.tif&x=10&y=10&res=1`);
      await page.reload();
      const notice = page.locator('glomseg-viewer [part=link-notice]');
      await notice.waitFor({ timeout: 60_000 });
      expect(await notice.textContent()).toMatch(/no-such-slide\.tif.*does not have.*showing \S+\.tif instead/);
      expect(await notice.isVisible()).toBe(true);
      // Choosing a slide from the list ends the notice.
      await page.locator(`glomseg-viewer [part=slide-list] button[title="${QUARTER}"]`).click();
      await expect.poll(() => notice.count(), { timeout: 30_000 }).toBe(0);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );
});
