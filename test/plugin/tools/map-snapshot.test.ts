/**
 * The PNG snapshot of the view (issue 29): every layer's canvas composed with its opacity, as the screen shows it,
 * without the overview map's own canvases, in Debian's Chromium. And the probability heatmap layer it composes:
 * each pixel of the tiles' probability PNGs (made here as the server makes them) in its viridis colour, nothing under
 * the floor, a tile that arrives again replacing its raster and a new session clearing them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { HEATMAP_FLOOR, probabilityRgb } from '../../../plugin/src/probability-scale.js';
import { probabilityPng } from '../../../server/src/service/probability-png.js';
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

/**
 * A tile's probability PNG as the server makes it, `across` x `down` raster pixels of `p(column, row)`, sent to the
 * page's feed over `bounds` (slide pixels).
 */
async function deliver(
  p: Page,
  col: number,
  bounds: { x: number; y: number; width: number; height: number },
  [across, down]: [number, number],
  probability: (column: number, row: number) => number,
): Promise<void> {
  const data = new Float32Array(across * down).map((_, i) => probability(i % across, Math.floor(i / across)));
  const png = probabilityPng(
    { width: across, height: down, data },
    {
      keepX: 0,
      keepY: 0,
      keepWidth: across,
      keepHeight: down,
    },
  );
  await p.evaluate(([c, b, bytes]) => (window as any).tools.feed.tile(c, b, bytes), [col, bounds, [...png]] as const);
}

/** The colour the heatmap gives probability p as the PNG carries it (one byte). */
const colourOf = (p: number) => probabilityRgb(Math.round(255 * p) / 255);

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
  beforeAll(async () => {
    // Tile 0 over slide (100, 100)-(300, 300) at 2 slide px per raster px: 0.2 on its left half, under the floor on
    // its right; tile 1 over (300, 100)-(500, 300) at 4: 0.9 throughout.
    await deliver(page, 0, { x: 100, y: 100, width: 200, height: 200 }, [100, 100], (column) =>
      column < 50 ? 0.2 : HEATMAP_FLOOR / 2,
    );
    await deliver(page, 1, { x: 300, y: 100, width: 200, height: 200 }, [50, 50], () => 0.9);
  });

  it('is the map as the screen shows it: slide and heatmap at its opacity, and not the overview', async () => {
    await page.evaluate(() => {
      const { heatmap } = (window as any).tools;
      heatmap.layer.setVisible(true);
      heatmap.layer.setOpacity(0.5);
    });
    // The first frame asks for the rasters in view; they are coloured, then drawn.
    await page.waitForFunction(() => (window as any).tools.heatmap.counts.rasters === 2);
    const png = await snapshot(page);
    const [width, height] = await page.evaluate(() => (window as any).tools.map.getSize());
    expect([png.width, png.height]).toEqual([width, height]);
    const screen = PNG.sync.read(await page.screenshot({ clip: { x: 0, y: 0, width, height } }));
    // p = 0.9 at slide (330, 180) -> CSS (330, 180) with the view centred at 300, -200 on 600 x 400.
    const blended = colourOf(0.9).map((c) => Math.round(0.5 * c + 0.5 * 128));
    expectClose(pixel(png, 330, 180), blended);
    expectClose(pixel(png, 330, 180), pixel(screen, 330, 180));
    // Tissue, and the white page beyond it.
    expectClose(pixel(png, 250, 350), [128, 128, 128]);
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

  it("draws each pixel's probability in its colour, nothing under the floor, and nothing when off", async () => {
    await page.evaluate(() => (window as any).tools.heatmap.layer.setOpacity(1));
    let png = await snapshot(page);
    expectClose(pixel(png, 150, 180), colourOf(0.2));
    expectClose(pixel(png, 250, 180), [128, 128, 128]); // under the floor: the tissue shows through
    expectClose(pixel(png, 330, 180), colourOf(0.9));
    await page.evaluate(() => (window as any).tools.heatmap.layer.setVisible(false));
    png = await snapshot(page);
    expectClose(pixel(png, 330, 180), [128, 128, 128]);
  });

  it('follows the tiles: one that arrives again replaces its raster, and a new session clears them all', async () => {
    await page.evaluate(() => (window as any).tools.heatmap.layer.setVisible(true));
    await deliver(page, 0, { x: 100, y: 100, width: 200, height: 200 }, [100, 100], () => 0.5);
    await page.waitForFunction(() => (window as any).tools.heatmap.counts.rasters === 2);
    let png = await snapshot(page);
    expectClose(pixel(png, 150, 180), colourOf(0.5));
    expectClose(pixel(png, 250, 180), colourOf(0.5));
    expectClose(pixel(png, 330, 180), colourOf(0.9));
    await page.evaluate(() => (window as any).tools.feed.newSession());
    png = await snapshot(page);
    expectClose(pixel(png, 150, 180), [128, 128, 128]);
    expectClose(pixel(png, 330, 180), [128, 128, 128]);
    expect(page.errors).toEqual([]);
  });
});
