/**
 * The ruler (issue 29): lengths in level-0 pixels times the slide's pixel size, drawn with the mouse (click points,
 * double-click to finish) and finished, taken back or dropped with the keyboard (Enter, Backspace, Escape), in
 * Debian's Chromium on a map at 1 slide px per CSS px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { measurement, polylineLength } from '../../../plugin/src/tools/ruler-tool.js';
import { launchChromium, type Browser } from '../browser.js';
import { openModulePage } from '../fixtures/module-page.js';

describe('polylineLength and measurement', () => {
  it('sums the segments and says the length in µm, mm, or px when the scale is unknown', () => {
    expect(
      polylineLength([
        [0, 0],
        [3, 4],
        [3, 10],
      ]),
    ).toBe(11);
    expect(polylineLength([[5, 5]])).toBe(0);
    expect(measurement(500, 0.5)).toEqual({ lengthPx: 500, lengthUm: 250, text: '250 µm' });
    expect(measurement(9, 0.5).text).toBe('4.5 µm');
    expect(measurement(5000, 0.5).text).toBe('2.50 mm');
    expect(measurement(1234.4, undefined)).toEqual({ lengthPx: 1234.4, text: '1,234 px' });
  });
});

let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  browser = await launchChromium({ width: 800, height: 600 });
  page = await openModulePage(browser, 'test/plugin/fixtures/tools-page.ts');
  // A ruler at 0.5 µm/px whose finished lines land in window.measured; keys go to it as the viewer sends them.
  await page.evaluate(() => {
    const w = window as any;
    w.measured = [];
    w.ruler = new w.tools.RulerTool(
      () => 0.5,
      (m: unknown) => w.measured.push(m),
    );
    w.ruler.activate(w.tools.map);
    document.addEventListener('keydown', (e) => w.ruler.handleKey(e.key) && e.preventDefault());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

const measured = (p: Page) => p.evaluate(() => (window as any).measured);

describe('the ruler in Chromium', () => {
  it('measures a line clicked with the mouse and finished with a double-click', async () => {
    await page.mouse.click(100, 100);
    await page.mouse.click(400, 100);
    await page.mouse.dblclick(400, 300);
    await page.waitForFunction(() => (window as any).measured.length === 1);
    const [m] = await measured(page);
    expect(m.lengthPx).toBeCloseTo(500, 6);
    expect(m.lengthUm).toBeCloseTo(250, 6);
    expect(m.text).toBe('250 µm');
    // The double-click finished the line; it did not zoom the map (a zoom would animate from now on, and the
    // next test's clicks would land on a moving map).
    expect(
      await page.evaluate(() => {
        const view = (window as any).tools.map.getView();
        return { resolution: view.getResolution(), animating: view.getAnimating() };
      }),
    ).toEqual({ resolution: 1, animating: false });
    // The label is on the map itself (a snapshot keeps it): dark text on a white box beside the end point.
    const label = await page.evaluate(() => {
      const canvas = (window as any).tools.composeMapCanvas((window as any).tools.map) as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(410, 270, 60, 25).data;
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] < 80 && data[i + 1] < 80 && data[i + 2] < 80) dark++;
      return dark;
    });
    expect(label).toBeGreaterThan(20);
    expect(page.errors).toEqual([]);
  });

  it('takes back a point with Backspace, finishes with Enter and drops a line with Escape', async () => {
    // Clear of the overview map in the lower left corner (a click there moves the view).
    await page.mouse.click(250, 200);
    await page.mouse.click(350, 200);
    await page.mouse.click(450, 200);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (window as any).measured.length === 2);
    const [, m] = await measured(page);
    expect(m.lengthPx).toBeCloseTo(100, 6);
    expect(m.text).toBe('50 µm');

    await page.mouse.click(500, 50);
    await page.mouse.click(550, 50);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    expect(await measured(page)).toHaveLength(2);
    expect(await page.evaluate(() => (window as any).ruler.measurements.map((m: any) => m.text))).toEqual([
      '250 µm',
      '50 µm',
    ]);
  });

  it('stops measuring when turned off, and clear() removes the lines', async () => {
    await page.evaluate(() => (window as any).ruler.deactivate());
    await page.mouse.click(100, 200);
    await page.mouse.dblclick(300, 200);
    expect(await measured(page)).toHaveLength(2);
    await page.evaluate(() => (window as any).ruler.clear());
    expect(await page.evaluate(() => (window as any).ruler.measurements.length)).toBe(0);
    expect(page.errors).toEqual([]);
  });
});
