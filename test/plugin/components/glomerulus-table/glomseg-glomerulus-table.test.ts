/**
 * <glomseg-glomerulus-table> in Debian's Chromium (issue 29: the report's table of glomeruli, in the viewer): the
 * rows as given, sorted by a column with the mouse or the keyboard, a row chosen by click or Enter (and reached
 * with the arrows), and its CSV as report.html's (shared/glomerulus-table.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { glomerulusCsv } from '@glomseg/shared/glomerulus-table.js';
import { launchChromium, type Browser } from '../../browser.js';
import { openModulePage } from '../../fixtures/module-page.js';

const ROWS = [
  { id: 'G1', areaPx: 40000, areaUm2: 10000, meanProbability: 0.91, status: 'TP', extent: [0, -200, 200, 0] },
  { id: 'G2', areaPx: 9000, areaUm2: 2250, meanProbability: 0.62, status: 'FP', extent: [300, -200, 400, -100] },
  { id: 'G10', areaPx: 20000, areaUm2: 5000, meanProbability: 0.85, status: 'TP', extent: [500, -600, 600, -500] },
  { id: 'M1', areaPx: 30000, areaUm2: 7500, meanProbability: undefined, status: 'FN', extent: [700, -800, 800, -700] },
];

let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  browser = await launchChromium({ width: 800, height: 600 });
  page = await openModulePage(browser, 'test/plugin/fixtures/components-page.ts', { width: 10, height: 10 });
  await page.evaluate(async (rows) => {
    const { table } = (window as any).tools;
    table.rows = rows;
    table.slideName = 'kidney';
    await table.updateComplete;
  }, ROWS);
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

const table = (p: Page) => p.locator('glomseg-glomerulus-table');
const ids = (p: Page) =>
  table(p)
    .locator('[part=row]')
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
const selected = (p: Page) =>
  p.evaluate(() =>
    (window as any).tools.events.filter((e: any) => e.type === 'glomseg-glomerulus-select').map((e: any) => e.detail),
  );

describe('<glomseg-glomerulus-table>', () => {
  it('lists the rows in id order (G2 before G10, missed last) with area in µm², mean p and status', async () => {
    expect(await ids(page)).toEqual(['G1', 'G2', 'G10', 'M1']);
    const cells = await table(page).locator('[part=row][data-id=M1] td').allTextContents();
    expect(cells.map((c) => c.trim())).toEqual(['M1', '7500', '–', 'FN']);
    expect(await table(page).locator('summary').textContent()).toContain('Glomeruli (4)');
  });

  it('sorts by a column: a click on its heading (largest first), again to reverse; and from the keyboard', async () => {
    await table(page).locator('th button[data-sort=areaPx]').click();
    expect(await ids(page)).toEqual(['G1', 'M1', 'G10', 'G2']);
    await table(page).locator('th button[data-sort=areaPx]').click();
    expect(await ids(page)).toEqual(['G2', 'G10', 'M1', 'G1']);
    await table(page).locator('th button[data-sort=meanProbability]').focus();
    await page.keyboard.press('Enter');
    expect(await ids(page)).toEqual(['G1', 'G10', 'G2', 'M1']);
    expect(await table(page).locator('th[aria-sort=descending] button').textContent()).toBe('mean p');
    await table(page).locator('th button[data-sort=id]').click();
    expect(await ids(page)).toEqual(['G1', 'G2', 'G10', 'M1']);
  });

  it('says which glomerulus was chosen: a row clicked, or reached with the arrows and Enter', async () => {
    await table(page).locator('[part=row][data-id=G10]').click();
    expect(await selected(page)).toEqual([{ id: 'G10', extent: [500, -600, 600, -500] }]);
    await page.evaluate(() => (window as any).tools.table.focusFirstRow());
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    expect((await selected(page)).map((s: any) => s.id)).toEqual(['G10', 'G10']);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press(' ');
    expect((await selected(page)).map((s: any) => s.id)).toEqual(['G10', 'G10', 'M1']);
  });

  it("downloads the rows as report.html's CSV", async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), table(page).locator('[part=csv]').click()]);
    expect(download.suggestedFilename()).toBe('kidney-glomeruli.csv');
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toBe(glomerulusCsv(ROWS as any));
    expect(page.errors).toEqual([]);
  });
});
