/**
 * The PNG snapshot of the view (issue 29): every layer's canvas composed with its opacity, as the screen shows it,
 * without the overview map's own canvases, in Debian's Chromium. And the probability heatmap layer it composes:
 * each glomerulus in the viridis colour of its mean probability.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { probabilityRgb } from '../../../plugin/src/probability-scale.js';
import { launchChromium, type Browser } from '../browser.js';
import { openModulePage } from '../fixtures/module-page.js';

let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  browser = await launchChromium({ width: 800, height: 600 });
  page = await openModulePage(browser, 'test/plugin/fixtures/tools-page.ts');
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** The snapshot's PNG as the page's mapSnapshot makes it, decoded here. */
async function snapshot(p: Page): Promise<PNG> {
  const base64 = await p.evaluate(async () => {
    const blob: Blob = await (window as any).tools.mapSnapshot((window as any).tools.map);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = '';
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  });
  return PNG.sync.read(Buffer.from(base64, 'base64'));
}

const pixel = (png: PNG, x: number, y: number) => {
  const i = (y * png.width + x) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
};

function expectClose(actual: number[], expected: number[], tolerance = 3): void {
  actual.forEach((value, i) =>
    expect(Math.abs(value - expected[i]), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance),
  );
}

describe('map snapshot', () => {
  it('is the map as the screen shows it: slide and heatmap at its opacity, and not the overview', async () => {
    await page.evaluate(() => {
      const { heatmap } = (window as any).tools;
      heatmap.layer.setVisible(true);
      heatmap.layer.setOpacity(0.5);
    });
    const png = await snapshot(page);
    const [width, height] = await page.evaluate(() => (window as any).tools.map.getSize());
    expect([png.width, png.height]).toEqual([width, height]);
    const screen = PNG.sync.read(await page.screenshot({ clip: { x: 0, y: 0, width, height } }));
    // Glomerulus p = 0.9 (slide 300..360, 150..210 -> CSS 300..360, 150..210 with the view centred at 300, -200 on 600 x 400).
    const blended = probabilityRgb(0.9).map((c) => Math.round(0.5 * c + 0.5 * 128));
    expectClose(pixel(png, 330, 180), blended);
    expectClose(pixel(png, 330, 180), pixel(screen, 330, 180));
    // Tissue, and the white page beyond it.
    expectClose(pixel(png, 250, 300), [128, 128, 128]);
    expectClose(pixel(png, 550, 350), [255, 255, 255]);
    // The overview (its own red square, over the map's bottom-left corner) is on the screen only.
    const red = (png: PNG) => {
      let count = 0;
      for (let i = 0; i < png.data.length; i += 4)
        if (png.data[i] > 200 && png.data[i + 1] < 60 && png.data[i + 2] < 60) count++;
      return count;
    };
    expect(red(screen)).toBeGreaterThan(1000);
    expect(red(png)).toBe(0);
    expect(page.errors).toEqual([]);
  });

  it('draws each glomerulus of the heatmap in the colour of its mean probability, and nothing when off', async () => {
    await page.evaluate(() => (window as any).tools.heatmap.layer.setOpacity(1));
    let png = await snapshot(page);
    expectClose(pixel(png, 180, 180), probabilityRgb(0.2));
    expectClose(pixel(png, 330, 180), probabilityRgb(0.9));
    await page.evaluate(() => (window as any).tools.heatmap.layer.setVisible(false));
    png = await snapshot(page);
    expectClose(pixel(png, 330, 180), [128, 128, 128]);
  });

  it('follows the predictions: a glomerulus added or removed there is added or removed in the heatmap', async () => {
    await page.evaluate(() => {
      const { heatmap, predictions, Feature, square } = (window as any).tools;
      heatmap.layer.setVisible(true);
      predictions.addFeature(new Feature({ geometry: square(150, 300, 60), meanProbability: 0.5 }));
      predictions.removeFeature(predictions.getFeatures()[0]);
    });
    const png = await snapshot(page);
    expectClose(pixel(png, 180, 330), probabilityRgb(0.5));
    expectClose(pixel(png, 180, 180), [128, 128, 128]);
  });
});
