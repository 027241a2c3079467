/**
 * Corrections in the viewer (issue 30, item 1), driven as a person does in Debian's Chromium against a real server
 * with an annotation store on disk: with a mouse and keys (accept, delete, reshape by dragging a vertex, draw a missed
 * glomerulus, mark a reviewed region, undo/redo, save, reload the page and load the saved version back, a stale save
 * refused in words), and on a touch screen (taps and a finger's drag).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { GlomsegApp } from '../../../server/src/app.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, MODELS } from '../../helpers/paths.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser.js';
import { DEMO_SLIDE } from '../demo-app.js';
import { waitForScoredView } from '../fixtures/viewer-pixels.js';

let app: GlomsegApp;
let dataDir: string;
const profiles: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-editing-'));
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
    dataDir,
    demo: { slideId: DEMO_SLIDE, annotationsPath: KIDNEY_REGION_GEOJSON },
  });
}, 300_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await app?.close();
  for (const dir of [...profiles, dataDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** A viewer page, with a touch screen or not, once every tile of the view is in. */
async function openViewer(touch: boolean): Promise<Page & { errors: string[] }> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'glomseg-chromium-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
    hasTouch: touch,
  });
  contexts.push(context);
  const page = (await context.newPage()) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(`${app.httpUrl}/`);
  await page.waitForFunction(() => (document.querySelector('glomseg-viewer') as any)?.overlay?.grid, null, {
    timeout: 60_000,
  });
  await waitForScoredView(page);
  return page;
}

/** Page coordinates of slide pixels (level 0) on the viewer's map. */
function toPage(page: Page, points: number[][]): Promise<number[][]> {
  return page.evaluate((slidePoints) => {
    const map = (document.querySelector('glomseg-viewer') as any).map;
    const box = map.getViewport().getBoundingClientRect();
    return slidePoints.map(([x, y]) => {
      const [px, py] = map.getPixelFromCoordinate([x, -y]);
      return [Math.round(box.x + px), Math.round(box.y + py)];
    });
  }, points);
}

/** A slide point well inside the predicted glomerulus of this size rank (0: the largest), and its ring. */
function insidePrediction(page: Page, rank: number): Promise<{ point: number[]; ring: number[][] }> {
  return page.evaluate((k) => {
    const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
    const ring: number[][] = [...overlay.predictions].sort((a: any, b: any) => b.area - a.area)[k].exterior;
    const inside = (x: number, y: number) => {
      let odd = false;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
      }
      return odd;
    };
    const cx = ring.reduce((s, [x]) => s + x, 0) / ring.length;
    const cy = ring.reduce((s, [, y]) => s + y, 0) / ring.length;
    const margin = 10 * (document.querySelector('glomseg-viewer') as any).map.getView().getResolution();
    for (let r = 0; r < 400; r += 2)
      for (let a = 0; a < 16; a++) {
        const x = cx + r * Math.cos((a * Math.PI) / 8);
        const y = cy + r * Math.sin((a * Math.PI) / 8);
        const around = [
          [0, 0],
          [margin, 0],
          [-margin, 0],
          [0, margin],
          [0, -margin],
        ];
        if (around.every(([dx, dy]) => inside(x + dx, y + dy))) return { point: [x, y], ring };
      }
    throw new Error('no point well inside the prediction');
  }, rank);
}

/** The overlay's counts as its panel shows them. */
function counts(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const part = (document.querySelector('glomseg-viewer') as any).overlay.shadowRoot.querySelector(
      '[part=editing-counts]',
    ) as HTMLElement;
    return Object.fromEntries(Object.entries(part.dataset).map(([key, value]) => [key, Number(value)]));
  });
}

async function waitForCounts(page: Page, expected: Record<string, number>): Promise<void> {
  await expect
    .poll(
      async () => {
        const now = await counts(page);
        return Object.fromEntries(Object.keys(expected).map((key) => [key, now[key]]));
      },
      { timeout: 15_000 },
    )
    .toEqual(expected);
}

/** The view's centre and size in slide pixels, to draw in. */
function viewBox(page: Page): Promise<{ cx: number; cy: number; size: number }> {
  return page.evaluate(() => {
    const map = (document.querySelector('glomseg-viewer') as any).map;
    const [minX, minY, maxX, maxY] = map.getView().calculateExtent(map.getSize());
    return { cx: (minX + maxX) / 2, cy: -(minY + maxY) / 2, size: Math.min(maxX - minX, maxY - minY) };
  });
}

const savedEvents = (page: Page) =>
  page.evaluate(() => {
    (window as any).saved = [];
    document.addEventListener('glomseg-annotations-saved', (e) =>
      (window as any).saved.push((e as CustomEvent).detail),
    );
  });

describe('corrections with a mouse and keys', () => {
  let saved: { version: number; regions: unknown };

  it('accepts, deletes, reshapes, draws, marks a region, undoes and redoes, and saves a version', async () => {
    const page = await openViewer(false);
    await savedEvents(page);
    const button = (selector: string) => page.locator(`glomseg-overlay [part=editing] ${selector}`);
    await page.locator('glomseg-overlay [part=editing-toggle]').click();
    await waitForCounts(page, { accepted: 0, corrected: 0, regions: 0 });

    // Accept the largest prediction with the button, delete the second with the key.
    const largest = await insidePrediction(page, 0);
    const [[ax, ay]] = await toPage(page, [largest.point]);
    await page.mouse.click(ax, ay);
    await expect.poll(() => button('[data-action=accept]').isEnabled()).toBe(true);
    await button('[data-action=accept]').click();
    await waitForCounts(page, { accepted: 1, deleted: 0 });
    const second = await insidePrediction(page, 1);
    const [[dx, dy]] = await toPage(page, [second.point]);
    await page.mouse.click(dx, dy);
    await expect.poll(() => button('[data-action=delete]').isEnabled()).toBe(true);
    await page.keyboard.press('x');
    await waitForCounts(page, { accepted: 1, deleted: 1, corrected: 1 });

    // Reshape the accepted glomerulus: select it, drag one of its vertices 25 px.
    await page.mouse.click(ax, ay);
    await expect.poll(() => button('[data-action=delete]').isEnabled()).toBe(true);
    const [[vx, vy]] = await toPage(page, [largest.ring[0]]);
    await page.mouse.move(vx, vy);
    await page.mouse.down();
    await page.mouse.move(vx + 10, vy + 10, { steps: 3 });
    await page.mouse.move(vx + 25, vy + 25, { steps: 3 });
    await page.mouse.up();
    await waitForCounts(page, { accepted: 0, edited: 1, deleted: 1 });

    // Draw a missed glomerulus (key n), clicking the first point to close it.
    const { cx, cy, size } = await viewBox(page);
    const s = size / 20;
    const drawn = await toPage(page, [
      [cx - 6 * s, cy - 6 * s],
      [cx - 4 * s, cy - 6 * s],
      [cx - 4 * s, cy - 4 * s],
      [cx - 6 * s, cy - 4 * s],
    ]);
    await page.locator('glomseg-viewer [part=map]').focus();
    await page.keyboard.press('n');
    for (const [x, y] of [...drawn, drawn[0]]) await page.mouse.click(x, y);
    await waitForCounts(page, { drawn: 1, corrected: 3 });

    // Mark a reviewed region with the Region tool: two corners.
    await button('[data-mode=region]').click();
    const corners = await toPage(page, [
      [cx - 8 * s, cy - 8 * s],
      [cx + 8 * s, cy + 8 * s],
    ]);
    for (const [x, y] of corners) await page.mouse.click(x, y);
    await waitForCounts(page, { regions: 1 });

    // A reviewed region as a polygon (Shift+B), around the drawn glomerulus's corner.
    await page.locator('glomseg-viewer [part=map]').focus();
    await page.keyboard.press('B');
    const area = await toPage(page, [
      [cx + 2 * s, cy + 2 * s],
      [cx + 7 * s, cy + 3 * s],
      [cx + 5 * s, cy + 7 * s],
    ]);
    for (const [x, y] of [...area, area[0]]) await page.mouse.click(x, y);
    await waitForCounts(page, { regions: 2 });

    // Undo (z) takes the polygon region back, redo (y) restores it.
    await page.keyboard.press('z');
    await waitForCounts(page, { regions: 1, drawn: 1 });
    await page.keyboard.press('y');
    await waitForCounts(page, { regions: 2, drawn: 1, edited: 1, deleted: 1 });

    // The viewer's ? help lists the editing keys with its own.
    await page.keyboard.press('?');
    const help = page.locator('glomseg-viewer glomseg-shortcut-help [part=shortcuts]');
    await expect.poll(() => help.textContent()).toMatch(/Editing: undo.*Editing: redo/s);
    await page.keyboard.press('Escape');

    await button('[data-action=save]').click();
    await expect
      .poll(() => page.locator('glomseg-overlay [part=editing-message]').textContent(), { timeout: 30_000 })
      .toMatch(/Saved as version 1/);
    const events = await page.evaluate(() => (window as any).saved);
    expect(events).toMatchObject([{ version: 1, author: 'anonymous', regionCount: expect.any(Number) }]);
    saved = {
      version: 1,
      regions: await page.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.editor.state.items),
    };
    expect(page.errors).toEqual([]);
  }, 300_000);

  it('a reloaded page loads the saved version back; a save from no version is refused in words', async () => {
    expect(saved?.version).toBe(1);
    const page = await openViewer(false);
    const button = (selector: string) => page.locator(`glomseg-overlay [part=editing] ${selector}`);
    await page.locator('glomseg-overlay [part=editing-toggle]').click();
    await expect
      .poll(() => page.locator('glomseg-overlay [part=editing-saved]').textContent())
      .toMatch(/version 1 by anonymous/);

    // An edit from nothing, saved over version 1: refused, saying who saved which version and what to do.
    const { cx, cy, size } = await viewBox(page);
    await button('[data-mode=region]').click();
    for (const [x, y] of await toPage(page, [
      [cx, cy],
      [cx + size / 10, cy + size / 10],
    ]))
      await page.mouse.click(x, y);
    await waitForCounts(page, { regions: 1 });
    await button('[data-action=save]').click();
    const message = page.locator('glomseg-overlay [part=editing-message][data-kind=error]');
    await expect
      .poll(() => message.textContent(), { timeout: 30_000 })
      .toMatch(/saved this slide meanwhile.*version 1 by anonymous.*load version 1/s);

    await button('[data-action=load]').click();
    await expect
      .poll(() => page.locator('glomseg-overlay [part=editing-message]').textContent())
      .toMatch(/Loaded version 1/);
    await waitForCounts(page, { accepted: 0, edited: 1, deleted: 1, drawn: 1, regions: 2 });
    const loaded = await page.evaluate(
      () => (document.querySelector('glomseg-viewer') as any).overlay.editor.state.items,
    );
    const shape = (items: any[]) =>
      items
        .map((item) => `${item.kind}:${item.ring.map((p: number[]) => p.map(Math.round).join(',')).join(' ')}`)
        .sort();
    expect(shape(loaded)).toEqual(shape(saved.regions as any[]));
    expect(await page.locator('glomseg-overlay [part=editing-saved]').getAttribute('data-base')).toBe('1');
    expect(page.errors).toEqual([]);
  }, 300_000);
});

describe('corrections on a touch screen', () => {
  it('taps select, accept, draw and mark a region; a finger drags a vertex', async () => {
    const page = await openViewer(true);
    const tap = async (x: number, y: number) => {
      await page.touchscreen.tap(x, y);
      await page.waitForTimeout(350); // past OpenLayers' single-click wait, so taps are not a double tap
    };
    const tapButton = async (selector: string) => {
      await page.locator(`glomseg-overlay [part=editing] ${selector}`).tap();
      await page.waitForTimeout(350);
    };
    await page.locator('glomseg-overlay [part=editing-toggle]').tap();
    const largest = await insidePrediction(page, 0);
    const [[ax, ay]] = await toPage(page, [largest.point]);
    await tap(ax, ay);
    await tapButton('[data-action=accept]');
    await waitForCounts(page, { accepted: 1 });

    // A finger on a vertex of the selected glomerulus, moved 30 px (Chromium's touch events through CDP).
    await tap(ax, ay);
    const [[vx, vy]] = await toPage(page, [largest.ring[0]]);
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number, y: number) =>
      cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }] });
    await touch('touchStart', vx, vy);
    for (let i = 1; i <= 6; i++) await touch('touchMove', vx + 5 * i, vy + 5 * i);
    await touch('touchEnd', vx + 30, vy + 30);
    await waitForCounts(page, { accepted: 0, edited: 1 });

    const { cx, cy, size } = await viewBox(page);
    const s = size / 20;
    await tapButton('[data-mode=draw]');
    const drawn = await toPage(page, [
      [cx + 4 * s, cy + 4 * s],
      [cx + 6 * s, cy + 4 * s],
      [cx + 6 * s, cy + 6 * s],
    ]);
    for (const [x, y] of [...drawn, drawn[0]]) await tap(x, y);
    await waitForCounts(page, { drawn: 1, edited: 1 });
    await tapButton('[data-mode=region]');
    for (const [x, y] of await toPage(page, [
      [cx - 2 * s, cy - 2 * s],
      [cx + 8 * s, cy + 8 * s],
    ]))
      await tap(x, y);
    await waitForCounts(page, { regions: 1, drawn: 1, edited: 1 });
    await tapButton('[data-action=undo]');
    await waitForCounts(page, { regions: 0, drawn: 1 });
    expect(page.errors).toEqual([]);
  }, 300_000);
});
