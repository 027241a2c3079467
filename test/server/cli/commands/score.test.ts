/**
 * `glomseg score`'s words, as a user reads them from the real CLI: --help names every file --out writes (read from
 * the export registry, report.html included), and a count of one is said in the singular.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { batchExportWriters, slideExportWriters } from '../../../../server/src/cli/exports/index.js';
import { glomseg } from '../../../helpers/cli.js';
import { EVAL_REGION } from '../../../helpers/paths.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-score-words-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('glomseg score', () => {
  it('--help names every file --out writes, report.html included', async () => {
    const { code, stdout } = await glomseg(['score', '--help']);
    expect(code).toBe(0);
    const help = stdout.replace(/\s+/g, ' ');
    const files = [
      ...slideExportWriters().map((writer) => writer.fileName('<slide>')),
      ...batchExportWriters().map((writer) => writer.fileName),
    ];
    expect(files).toContain('report.html');
    expect(files).toContain('<slide>.geojson');
    for (const file of files) expect(help).toContain(file);
  }, 120_000);

  it('says "the 1 slide is already scored", not "all 1 slides"', async () => {
    const args = [
      'score',
      path.join(EVAL_REGION, 'kidney-region.tif'),
      '--region',
      '0,0,512,512',
      '--out',
      dir,
      '--progress',
      'none',
    ];
    const first = await glomseg(args);
    expect(first.code, first.stderr).toBe(0);
    const again = await glomseg(args);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to do: the 1 slide is already scored in /);
    expect(again.stderr).not.toMatch(/\b1 slides\b/);
  }, 240_000);
});
