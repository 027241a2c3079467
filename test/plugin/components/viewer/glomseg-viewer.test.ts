/**
 * <glomseg-viewer> as a pathologist uses it, in Debian's Chromium at 1600 x 1000: switching slides, a slide whose
 * file records no pixel size, the sliders' keyboard, the legend. Real server, real slides, real model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { GlomsegApp } from '../../../../server/src/app.js';
import { EVAL_REGION, MODELS } from '../../../helpers/paths.js';
import { launchChromium, type Browser } from '../../browser.js';

const QUARTER = 'kidney-region-quarter.tif';
const FULL = 'kidney-region.tif';
const TIMEOUT = 240_000;
/** Opening a slide needs two small calls (GetSlideInfo, ListModels), no inference. */
const SWITCH_TIMEOUT = 30_000;

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  app = await GlomsegApp.start({ slideFolders: [EVAL_REGION], modelFolder: MODELS, host: '127.0.0.1', grpcPort: 0, httpPort: 0, device: 'cpu' });
  browser = await launchChromium({ width: 1600, height: 1000 });
  page = await browser.newPage();
  await page.goto(`${app.httpUrl}/`);
  await page.waitForFunction(() => (document.querySelector('glomseg-viewer') as any)?.overlay?.grid, null, { timeout: 60_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** What the viewer shows now: the open slide's info, the overlay's grid and whether the map has a view centre. */
function viewerState(p: Page) {
  return p.evaluate(() => {
    const viewer = document.querySelector('glomseg-viewer') as any;
    const view = viewer.map.getView();
    return {
      info: viewer.shadowRoot.querySelector('[part=slide-info] h3')?.textContent ?? '',
      gridSlide: viewer.overlay.grid?.slideId ?? '',
      centred: view.isDef(),
      layers: viewer.map.getLayers().getLength(),
    };
  });
}

async function openFromList(p: Page, name: string): Promise<void> {
  await p.locator('glomseg-viewer [part=slide-list] button', { hasText: name }).first().click();
}

describe('<glomseg-viewer>', () => {
  it('switches to another slide from the list and back again, leaving the first slide\'s annotations behind', async () => {
    const first = await viewerState(page);
    const truth = JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { objectType: 'annotation' }, geometry: { type: 'Polygon', coordinates: [[[100, 100], [300, 100], [300, 300], [100, 100]]] } }] });
    await page.evaluate((text) => (document.querySelector('glomseg-viewer') as any).overlay.loadAnnotations(text, { name: 'truth.geojson' }), truth);
    expect(await page.locator('glomseg-overlay [part=annotations]').textContent()).toContain('truth.geojson');
    const other = first.gridSlide === QUARTER ? FULL : QUARTER;
    for (const target of [other, first.gridSlide]) {
      await openFromList(page, target);
      await page.waitForFunction(
        (id) => {
          const viewer = document.querySelector('glomseg-viewer') as any;
          return viewer.overlay.grid?.slideId === id && viewer.shadowRoot.querySelector('[part=slide-info] h3')?.textContent === id;
        },
        target,
        { timeout: SWITCH_TIMEOUT },
      ).catch((error) => {
        throw new Error(`the viewer did not switch to ${target} (page errors: ${page.errors.join('; ') || 'none'}): ${error}`);
      });
      const state = await viewerState(page);
      expect(state.centred).toBe(true);
      expect(state.info).toBe(target);
      expect(await page.locator('glomseg-overlay [part=annotations]').textContent()).not.toContain('truth.geojson');
      expect(await page.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.metrics)).toBeUndefined();
    }
    expect(page.errors).toEqual([]);
  }, TIMEOUT);

  it('says that the quarter-scale slide records no pixel size, and which one it estimated', async () => {
    await openFromList(page, QUARTER);
    const note = page.locator('glomseg-overlay [part=scale-note]');
    await expect.poll(() => note.getAttribute('data-source'), { timeout: SWITCH_TIMEOUT }).toBe('estimated');
    expect(await note.textContent()).toMatch(/does not record its pixel size.*estimated 2\.00 µm\/px.*mpp-override/);
    await expect.poll(() => page.locator('glomseg-viewer [part=slide-info]').textContent(), { timeout: SWITCH_TIMEOUT }).toMatch(/2\.000 µm\/px \(estimated from the image, confidence \d+%\)/);
    // The full-resolution region records no pixel size either; its estimate is the model's own 0.5 um/px.
    await openFromList(page, FULL);
    await expect.poll(() => page.locator('glomseg-viewer [part=slide-info]').textContent(), { timeout: SWITCH_TIMEOUT }).toMatch(/0\.500 µm\/px \(estimated/);
    expect(page.errors).toEqual([]);
  }, TIMEOUT);

  it('keeps the progress bar full width while streaming', async () => {
    const widths = await page.evaluate(() => {
      const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
      const status = overlay.shadowRoot.querySelector('[part=status]');
      return { bar: status.querySelector('progress').getBoundingClientRect().width, status: status.getBoundingClientRect().width };
    });
    expect(widths.bar).toBeGreaterThan(widths.status * 0.9);
  });
});
