/**
 * The batch folder's export writers: the built-in files, and a per-slide and a batch export registered from this
 * file alone (as a new server/src/cli/exports/<name>.ts would) written by a batch and by `merge`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { BatchOutput, resultFiles, type SlideResult } from '../../../../server/src/cli/batch-manifest.js';
import { runMerge } from '../../../../server/src/cli/merge-command.js';
import {
  batchExportWriters,
  registerBatchExport,
  registerSlideExport,
  slideExportWriters,
} from '../../../../server/src/cli/exports/index.js';

const settings = { model: null, mpp: null, threshold: null, region: null, annotations: null };
const square: GlomerulusPolygon = {
  exterior: [
    [10, 10],
    [60, 10],
    [60, 60],
    [10, 60],
  ],
  holes: [],
  area: 2500,
  meanProbability: 0.9,
  touches: [],
};
const resultOf = (slide: string, name: string): SlideResult => ({
  slide,
  name,
  slideId: slide,
  width: 100,
  height: 100,
  glomeruli: 1,
  elapsedMs: 5,
  rle: '1011 50',
});

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'glomseg-exports-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function scoreInto(out: string, slides: Array<[string, string]>): Promise<void> {
  await mkdir(out, { recursive: true });
  const batch = await BatchOutput.open(out, settings);
  await batch.begin(slides.map(([slide, name]) => ({ slide, name })));
  for (const [slide, name] of slides) await batch.recordDone(resultOf(slide, name), [square]);
  await batch.rebuild();
}

describe('export writers, built in', () => {
  it('are <slide>.geojson per slide, and submission.csv, metrics.json and report.html per batch', async () => {
    expect(slideExportWriters().map((w) => w.fileName('a'))).toEqual(['a.geojson']);
    expect(batchExportWriters().map((w) => w.fileName)).toEqual(['submission.csv', 'metrics.json', 'report.html']);
    const out = path.join(tmp, 'built-in');
    await scoreInto(out, [
      ['b.tif', 'b'],
      ['a.tif', 'a'],
    ]);
    expect((await readdir(out)).sort()).toEqual([
      'a.geojson',
      'a.result.json',
      'b.geojson',
      'b.result.json',
      'manifest.json',
      'metrics.json',
      'report.html',
      'submission.csv',
    ]);
    expect(await readFile(path.join(out, 'submission.csv'), 'utf8')).toBe('id,predicted\na,1011 50\nb,1011 50\n');
    const metrics = JSON.parse(await readFile(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.slides.map((s: { slide: string; ok: boolean }) => [s.slide, s.ok])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });
});

describe('an export registered from one file', () => {
  it('is written by a batch and by merge, its per-slide file copied with the slide', async () => {
    registerSlideExport({
      fileName: (name) => `${name}.count.txt`,
      write: ({ result, polygons }) => `${result.name} ${polygons.length}\n`,
    });
    registerBatchExport({
      fileName: 'counts.tsv',
      write: ({ slides }) => slides.map(({ entry, result }) => `${entry.name}\t${result?.glomeruli ?? '-'}\n`).join(''),
    });
    expect(resultFiles('a')).toEqual(['a.geojson', 'a.count.txt', 'a.result.json']);

    const shards = [path.join(tmp, 'shard-0'), path.join(tmp, 'shard-1')];
    await scoreInto(shards[0], [['a.tif', 'a']]);
    await scoreInto(shards[1], [['b.tif', 'b']]);
    expect(await readFile(path.join(shards[0], 'a.count.txt'), 'utf8')).toBe('a 1\n');
    expect(await readFile(path.join(shards[0], 'counts.tsv'), 'utf8')).toBe('a\t1\n');

    const merged = path.join(tmp, 'merged');
    await runMerge(shards, merged);
    expect(await readFile(path.join(merged, 'b.count.txt'), 'utf8')).toBe('b 1\n');
    expect(await readFile(path.join(merged, 'counts.tsv'), 'utf8')).toBe('a\t1\nb\t1\n');
    expect(await readFile(path.join(merged, 'submission.csv'), 'utf8')).toBe('id,predicted\na,1011 50\nb,1011 50\n');
  });
});
