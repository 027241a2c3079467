/**
 * report.html shows the errors: the real CLI scores the evaluation region against its annotations into --out, and
 * Chromium reads the report. The true positives, false positives and missed glomeruli drawn and tabled are exactly
 * the counts metrics.json gives (the same one-to-one IoU >= 0.5 matching), the table has a row per predicted
 * glomerulus plus one per missed, its CSV link (a data: URL) holds the same rows, a scale bar says its length, and
 * the page fetches nothing. GLOMSEG_SCREENSHOTS=1 also saves docs/report-errors.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { glomseg } from '../../helpers/cli.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, REPO_ROOT } from '../../helpers/paths.js';
import { launchChromium, type Browser } from '../../plugin/browser.js';

const SLIDE = path.join(EVAL_REGION, 'kidney-region.tif');
const REGION = '0,0,3200,2400';

let dir: string;
let browser: Browser;
let metrics: any;
let seen: any;
const requests: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-report-'));
  const run = await glomseg([
    'score',
    SLIDE,
    '--annotations',
    KIDNEY_REGION_GEOJSON,
    '--region',
    REGION,
    '--out',
    dir,
    '--progress',
    'none',
  ]);
  expect(run.code, run.stderr).toBe(0);
  metrics = JSON.parse(await readFile(path.join(dir, 'metrics.json'), 'utf8')).slides[0];
  browser = await launchChromium({ width: 1366, height: 900 });
  const page = await browser.newPage();
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(path.join(dir, 'report.html')).href);
  seen = await page.evaluate(() => {
    const count = (selector: string) => document.querySelectorAll(selector).length;
    const cells = (row: Element) => [...row.querySelectorAll('td')].map((td) => td.textContent ?? '');
    const link = document.querySelector<HTMLAnchorElement>('a.csv');
    return {
      drawn: {
        predictedTP: count('path.prediction[data-status="TP"]'),
        predictedFP: count('path.prediction[data-status="FP"]'),
        predictedOther: count('path.prediction:not([data-status="TP"]):not([data-status="FP"])'),
        truthTP: count('path.truth[data-status="TP"]'),
        truthFN: count('path.truth[data-status="FN"]'),
      },
      colours: ['TP', 'FP', 'FN'].map((s) =>
        document.querySelector(`path[data-status="${s}"]`)?.getAttribute('stroke'),
      ),
      rows: [...document.querySelectorAll('table.glomeruli tbody tr')].map(cells),
      csvHref: link?.href ?? '',
      csvName: link?.getAttribute('download'),
      scaleBar: document.querySelector('.scale-bar text')?.textContent ?? '',
      scaleBarUm: Number(document.querySelector('.scale-bar')?.getAttribute('data-length-um')),
    };
  });
  if (process.env.GLOMSEG_SCREENSHOTS) {
    const png = await page.locator('section').first().screenshot();
    await sharp(png)
      .resize({ width: 1100, withoutEnlargement: true })
      .png({ palette: true, colours: 128 })
      .toFile(path.join(REPO_ROOT, 'docs', 'report-errors.png'));
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('report.html with ground truth', () => {
  it('draws as many true positives, false positives and missed glomeruli as metrics.json counts, in the viewer palette', () => {
    const { truePositives, falsePositives, falseNegatives } = metrics.metrics;
    expect(truePositives).toBeGreaterThan(0);
    expect(falsePositives + falseNegatives).toBeGreaterThan(0); // the errors are there to show
    expect(seen.drawn).toEqual({
      predictedTP: truePositives,
      predictedFP: falsePositives,
      predictedOther: 0,
      truthTP: truePositives,
      truthFN: falseNegatives,
    });
    expect(seen.colours).toEqual(['#1e88e5', '#ffc107', '#d81b60']);
  });

  it('tables one row per predicted glomerulus plus one per missed, with the statuses of the metrics', () => {
    const { truePositives, falsePositives, falseNegatives } = metrics.metrics;
    expect(seen.rows).toHaveLength(metrics.glomeruli + falseNegatives);
    const statuses = seen.rows.map((row: string[]) => row[4]);
    expect(['TP', 'FP', 'FN'].map((s) => statuses.filter((x: string) => x === s).length)).toEqual([
      truePositives,
      falsePositives,
      falseNegatives,
    ]);
    for (const row of seen.rows) {
      expect(row[0]).toMatch(/^[GM]\d+$/);
      expect(Number(row[1])).toBeGreaterThan(0);
      expect(Number(row[2])).toBeCloseTo(Number(row[1]) * metrics.scale.mpp ** 2, -1);
      if (row[4] === 'FN') expect(row[3]).toBe('–');
      else expect(Number(row[3])).toBeGreaterThan(0.3);
    }
  });

  it('links the same rows as a CSV data: URL', () => {
    expect(seen.csvHref).toMatch(/^data:text\/csv;charset=utf-8,/);
    expect(seen.csvName).toBe('kidney-region-glomeruli.csv');
    const lines = decodeURIComponent(seen.csvHref.slice(seen.csvHref.indexOf(',') + 1))
      .trim()
      .split(/\r\n/);
    expect(lines[0]).toBe('id,area_px,area_um2,mean_probability,status');
    expect(lines.slice(1).map((line) => line.split(','))).toEqual(
      seen.rows.map((row: string[]) => row.map((cell) => (cell === '–' ? '' : cell))),
    );
  });

  it('has a scale bar that says its length in µm from the pixel size, and fetches nothing', () => {
    expect(seen.scaleBarUm).toBeGreaterThan(0);
    expect(seen.scaleBar).toMatch(
      new RegExp(`^${seen.scaleBarUm >= 1000 ? `${seen.scaleBarUm / 1000} mm` : `${seen.scaleBarUm} µm`}`),
    );
    expect(requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:'))).toEqual([]);
  });
});
