/**
 * `training/score_validation.sh --other-labs`: other labs' images scored one by one by the product at the pixel size
 * their tiles.csv states, summed up per patient and overall (training/other_labs.mjs). Run on two tiles of the real
 * H&E set with the shipped model, and on a set made of two HuBMAP validation tiles at two stated pixel sizes (where
 * the shipped model finds glomeruli, so the figures are not all zero and the groups per pixel size are exercised).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA, MODELS, REPO_ROOT } from '../helpers/paths.js';

const SCRIPT = path.join(REPO_ROOT, 'training', 'score_validation.sh');
const HUBMAP_TILES = path.join(DATA, 'hubmap-vu', 'tiles');
const exec = promisify(execFile);

interface Figures {
  images: number;
  glomeruli: number;
  predicted: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  meanImageDice: number;
  globalDice: number;
  precision: number;
  recall: number;
  f1: number;
}
interface Image {
  tile: string;
  patient: string;
  mpp: number;
  dice: number;
  glomeruli: number;
  predicted: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}
interface OtherLabsMetrics {
  set: string;
  threshold: number;
  stainNormalization: string;
  overall: Figures;
  patients: Record<string, Figures>;
  perImage: Image[];
}

function run(env: Record<string, string>, out: string) {
  return exec('bash', [SCRIPT, '--other-labs', MODELS, out], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    timeout: 170_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, 'utf8')) as T;

/** Figures in [0, 1], counts that add up, and precision, recall, F1 and mean image Dice as their definitions say. */
function expectConsistent(f: Figures, images: Image[]) {
  for (const v of [f.meanImageDice, f.globalDice, f.precision, f.recall, f.f1]) {
    expect(typeof v).toBe('number');
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(1);
  }
  expect(f.images).toBe(images.length);
  const sum = (pick: (i: Image) => number) => images.reduce((total, i) => total + pick(i), 0);
  expect([f.glomeruli, f.predicted, f.truePositives, f.falsePositives, f.falseNegatives]).toEqual([
    sum((i) => i.glomeruli),
    sum((i) => i.predicted),
    sum((i) => i.truePositives),
    sum((i) => i.falsePositives),
    sum((i) => i.falseNegatives),
  ]);
  expect(f.truePositives + f.falseNegatives).toBe(f.glomeruli);
  expect(f.truePositives + f.falsePositives).toBe(f.predicted);
  expect(f.meanImageDice).toBeCloseTo(sum((i) => i.dice) / images.length, 3);
  expect(f.precision).toBeCloseTo(f.predicted > 0 ? f.truePositives / f.predicted : 0, 4);
  expect(f.recall).toBeCloseTo(f.truePositives / f.glomeruli, 4);
  expect(f.f1).toBeCloseTo(f.precision + f.recall > 0 ? (2 * f.precision * f.recall) / (f.precision + f.recall) : 0, 3);
}

function expectWellFormed(m: OtherLabsMetrics, patients: string[]) {
  expect(Object.keys(m.patients).sort()).toEqual(patients);
  expectConsistent(m.overall, m.perImage);
  for (const p of patients)
    expectConsistent(
      m.patients[p],
      m.perImage.filter((i) => i.patient === p),
    );
  for (const i of m.perImage) {
    expect(i.dice).toBeGreaterThanOrEqual(0);
    expect(i.dice).toBeLessThanOrEqual(1);
  }
}

/** What `glomseg score` itself wrote for an image: the per-image figures must be the product's, not recomputed. */
async function productSlide(out: string, mpp: number, tile: string) {
  const { slides } = await readJson<{
    slides: Array<{
      slide: string;
      scale: { mpp: number; source: string };
      metrics: { globalDice: number; truePositives: number };
    }>;
  }>(path.join(out, 'scores', `mpp-${mpp}`, 'metrics.json'));
  return slides.find((s) => s.slide === tile)!;
}

describe('score_validation.sh --other-labs', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-other-labs-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("scores two H&E biopsy views with the shipped model at tiles.csv's pixel size, per patient and overall", async () => {
    const out = path.join(folder, 'he');
    const { stdout } = await run({ OTHER_LABS_TILES: 'C001_region1 C003_region5' }, out);
    const m = await readJson<OtherLabsMetrics>(path.join(out, 'metrics.json'));
    expect(m.set).toBe('awke4-he-biopsy');
    expect(m.perImage.map((i) => [i.tile, i.patient, i.mpp, i.glomeruli])).toEqual([
      ['C001_region1', 'C001', 0.515, 1],
      ['C003_region5', 'C003', 0.515, 2],
    ]);
    expectWellFormed(m, ['C001', 'C003']);
    for (const i of m.perImage) {
      const s = await productSlide(out, 0.515, i.tile);
      expect(s.scale).toMatchObject({ mpp: 0.515, source: 'request' });
      expect(i.dice).toBeCloseTo(s.metrics.globalDice, 4);
    }
    expect(stdout).toMatch(/\| C001 \| 1 \| 1 \|/);
    expect(stdout).toMatch(/\| \*\*all\*\* \| 2 \| 3 \|/);
  }, 180_000);

  it('runs one glomseg score per stated pixel size and sums up real detections', async () => {
    // Two HuBMAP validation tiles (never the eval region) as a "lab" whose tiles state two pixel sizes.
    const set = path.join(folder, 'two-scales');
    const out = path.join(folder, 'two-scales-out');
    await exec('mkdir', ['-p', set]);
    for (const id of ['148', '323']) {
      await symlink(path.join(HUBMAP_TILES, `${id}.jpg`), path.join(set, `${id}.jpg`));
      await symlink(path.join(HUBMAP_TILES, `${id}.json`), path.join(set, `${id}.json`));
    }
    await writeFile(path.join(set, 'tiles.csv'), 'tile_id,case,glomeruli,um_per_px\n148,A,5,0.5\n323,B,9,0.49\n');
    await run({ OTHER_LABS: set }, out);
    const m = await readJson<OtherLabsMetrics>(path.join(out, 'metrics.json'));
    expect(m.perImage.map((i) => [i.tile, i.mpp])).toEqual([
      ['148', 0.5],
      ['323', 0.49],
    ]);
    expectWellFormed(m, ['A', 'B']);
    expect((await productSlide(out, 0.5, '148')).scale).toMatchObject({ mpp: 0.5, source: 'request' });
    expect((await productSlide(out, 0.49, '323')).scale).toMatchObject({ mpp: 0.49, source: 'request' });
    // In-domain tiles: the shipped model finds most of their glomeruli, so the consistency checks above bite.
    expect(m.overall.truePositives).toBeGreaterThan(7);
    expect(m.overall.meanImageDice).toBeGreaterThan(0.7);
    expect(m.overall.f1).toBeGreaterThan(0.5);
  }, 180_000);

  it("refuses a set whose tiles.csv does not state a tile's pixel size, and unknown tiles", async () => {
    const set = path.join(folder, 'no-mpp');
    await exec('mkdir', ['-p', set]);
    await writeFile(path.join(set, 'tiles.csv'), 'tile_id,case,glomeruli,um_per_px\nx1,P1,1,\n');
    await expect(run({ OTHER_LABS: set }, path.join(folder, 'no-mpp-out'))).rejects.toMatchObject({
      stderr: expect.stringMatching(/tile x1 has no valid um_per_px/),
    });
    await expect(
      run({ OTHER_LABS_TILES: 'C001_region1 C009_region1' }, path.join(folder, 'unknown-out')),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/does not list: C009_region1/),
    });
  }, 60_000);
});
