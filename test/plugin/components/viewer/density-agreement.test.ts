/**
 * One glomeruli-per-mm² figure (issue 29): the viewer, once every tile of the slide is in, and the CLI's report.html
 * on the same slide say the same density over the same tissue area. Both count the tissue the server measured (its
 * tissue map), so they cannot drift apart. `score --viewer-grid` cuts the same tiles as the viewer, so its figure is
 * the viewer's exactly; plain `score` cuts the larger scoring windows (issue 31), whose seams join the odd glomerulus
 * differently: its count is within one glomerulus over the same tissue. Real server, real model, real CLI processes,
 * Chromium reading the pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GlomsegApp } from '../../../../server/src/app.js';
import { glomseg } from '../../../helpers/cli.js';
import { EVAL_REGION, MODELS } from '../../../helpers/paths.js';
import { openViewerPage, type Browser } from '../../browser.js';

const SLIDE = 'kidney-region.tif';
const TIMEOUT = 400_000;

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-density-'));
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
  });
  ({ browser, page } = await openViewerPage(app.httpUrl!, { width: 1600, height: 1000 }));
  const open = await page.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.grid.slideId);
  if (open !== SLIDE) await page.locator(`glomseg-viewer [part=slide-list] button[title="${SLIDE}"]`).click();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The viewer's density line once every tile of the slide is in. */
async function viewerDensity(p: Page) {
  await p.waitForFunction(
    (slide) => {
      const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
      const status = overlay.shadowRoot.querySelector('[part=status]');
      const grid = overlay.grid;
      return (
        grid?.slideId === slide &&
        status.dataset.streaming === 'false' &&
        Number(status.dataset.polygons) > 0 &&
        Number(status.dataset.received) === grid.cols * grid.rows
      );
    },
    SLIDE,
    { timeout: TIMEOUT, polling: 200 },
  );
  return p.evaluate(() => {
    const root = (document.querySelector('glomseg-viewer') as any).overlay.shadowRoot;
    return root.querySelector('[part=density]')?.textContent?.trim() ?? '';
  });
}

describe('glomeruli per mm²', () => {
  it(
    "is the same figure over the same tissue area in the viewer and in the CLI's report.html",
    async () => {
      const viewerText = await viewerDensity(page);
      const viewer = viewerText.match(/^(\d+\.\d\d) glomeruli per mm² of tissue \((\d+\.\d\d) mm²\)$/);
      expect(viewer, viewerText).not.toBeNull();
      for (const { grid, args } of [
        { grid: 'viewer grid', args: ['--viewer-grid'] },
        { grid: 'scoring windows', args: [] },
      ]) {
        const out = path.join(dir, args.length > 0 ? 'viewer-grid' : 'windows');
        const run = await glomseg([
          'score',
          path.join(EVAL_REGION, SLIDE),
          '--out',
          out,
          '--progress',
          'none',
          ...args,
        ]);
        expect(run.code, run.stderr).toBe(0);
        const report = await browser.newPage();
        await report.goto(pathToFileURL(path.join(out, 'report.html')).href);
        const reportText = await report.evaluate(() => {
          const row = [...document.querySelectorAll('table.metrics tr')].find((tr) =>
            tr.querySelector('th')?.textContent?.startsWith('Glomeruli per mm²'),
          );
          return `${row?.querySelector('th')?.textContent} = ${row?.querySelector('td')?.textContent}`;
        });
        await report.close();
        const html = reportText.match(/^Glomeruli per mm² of tissue = (\d+\.\d\d) \(tissue (\d+\.\d\d) mm²/);
        expect(html, reportText).not.toBeNull();
        const context = `${grid}: ${viewerText} | ${reportText}`;
        expect(html![2], context).toBe(viewer![2]);
        if (args.length > 0) expect(html![1], context).toBe(viewer![1]);
        // Within one glomerulus over the same tissue, as the two figures are shown: rounded to 0.01 each.
        else
          expect(Math.abs(Number(html![1]) - Number(viewer![1])), context).toBeLessThanOrEqual(
            1.01 / Number(viewer![2]) + 0.01,
          );
      }
      expect(page.errors).toEqual([]);
    },
    TIMEOUT + 240_000,
  );
});
