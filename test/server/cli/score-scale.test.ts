/**
 * `glomseg score` on a slide whose file records no pixel size (the quarter-scale eval region, truly 2 um/px). The
 * shipped model is scale-robust (trained at 0.5-2x), so its card turns the image-based estimate off (it cannot tell
 * neighbouring scales apart): the slide is read at the training scans' 0.5 um/px, never quietly: the result and the
 * table say so and what to do, and a stated --mpp wins. (The estimate itself: test/shared/scale-estimate.test.ts and
 * the service's fake-port tests.)
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DATA, EVAL_REGION, REPO_ROOT } from '../../helpers/paths.js';

const CLI = path.join(REPO_ROOT, 'server', 'src', 'cli', 'main.ts');
const QUARTER = path.join(EVAL_REGION, 'kidney-region-quarter.tif');

async function glomseg(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO_ROOT, timeout: 240_000 });
}

function resultOf(stdout: string): any {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .find((event) => event.event === 'result');
}

describe('glomseg score on a slide without a recorded pixel size', () => {
  it('reads it at the training scale and says so, with what to do, in the result and the table', async () => {
    const { stdout, stderr } = await glomseg(['score', QUARTER, '--json']);
    const result = resultOf(stdout);
    expect(result.scale.source).toBe('model-default');
    expect(result.scale.mpp).toBe(0.5);
    expect(result.scale.note).toMatch(/does not record its pixel size.*assume 0\.50 µm\/px.*--mpp/);
    // The table (on stderr with --json) carries the scale and the note.
    expect(stderr).toMatch(/0\.50 ASSUMED/);
    expect(stderr).toContain('note: kidney-region-quarter: The slide file does not record its pixel size');
  }, 240_000);

  it('writes a self-contained HTML report: thumbnail with the polygons, metrics, scale and size distribution', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'glomseg-report-'));
    try {
      const { stdout } = await glomseg(['score', QUARTER, '--mpp', '2', '--out', out, '--json']);
      const result = resultOf(stdout);
      const html = await readFile(path.join(out, 'report.html'), 'utf8');
      expect(html).toContain('<h2>kidney-region-quarter</h2>');
      expect(html).toMatch(/<image href="data:image\/jpeg;base64,[A-Za-z0-9+/]{1000,}/);
      expect(html.match(/<path class="glomerulus prediction"/g)).toHaveLength(result.glomeruli);
      expect(html).toContain('2.000 µm/px (given with --mpp)');
      expect(html).toMatch(
        /Glomeruli per mm² of tissue<\/th><td>\d+\.\d\d \(tissue \d+\.\d\d mm², \d+% of the slide\)/,
      );
      expect(html).toMatch(/<svg[^>]*aria-label="Glomerulus sizes: \d+ glomeruli/);
      // Self-contained: nothing fetched from elsewhere.
      expect(html).not.toMatch(/<(script|link)\b|src="http|href="http/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 240_000);

  it('uses the pixel size given with --mpp, without a note', async () => {
    const { stdout, stderr } = await glomseg(['score', QUARTER, '--mpp', '2', '--json']);
    const result = resultOf(stdout);
    expect(result.scale).toEqual({ mpp: 2, source: 'request' });
    expect(result.glomeruli).toBeGreaterThan(45);
    expect(stderr).not.toContain('note:');
  }, 240_000);
});

describe('glomseg score --out on a slide without a recorded pixel size', () => {
  // A HuBMAP tile: a JPEG, so no recorded pixel size, and truly about 0.5 um/px, so the assumed scale finds glomeruli.
  const TILE = path.join(DATA, 'hubmap-vu', 'tiles', '148.jpg');

  it('marks each area computed from the assumed pixel size, and says so on stderr; a stated --mpp is not marked', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'glomseg-assumed-'));
    try {
      const { stderr } = await glomseg(['score', TILE, '--out', path.join(out, 'assumed'), '--json']);
      const assumed = JSON.parse(await readFile(path.join(out, 'assumed', '148.geojson'), 'utf8'));
      expect(assumed.features.length).toBeGreaterThan(0);
      for (const feature of assumed.features) {
        expect(feature.properties.measurements['Assumed µm/px']).toBe(0.5);
        expect(feature.properties.measurements['Area µm^2']).toBeGreaterThan(0);
      }
      expect(stderr).toMatch(/note: 148: "Area µm\^2" in 148\.geojson .*assumes? 0\.50 µm\/px/);
      // The report says the pixel size was assumed, in words (it showed the source code "(model-default)").
      expect(await readFile(path.join(out, 'assumed', 'report.html'), 'utf8')).toContain(
        "0.500 µm/px (assumed: the file records none, so the model's training scale)",
      );

      const stated = await glomseg(['score', TILE, '--mpp', '0.5', '--out', path.join(out, 'stated'), '--json']);
      const given = JSON.parse(await readFile(path.join(out, 'stated', '148.geojson'), 'utf8'));
      expect(given.features.length).toBeGreaterThan(0);
      for (const feature of given.features)
        expect(Object.keys(feature.properties.measurements)).toEqual(['Area µm^2', 'Mean probability']);
      expect(stated.stderr).not.toContain('Area µm^2');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 240_000);
});
