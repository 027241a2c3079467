/**
 * Resumable batches with `glomseg score --out`, as separate processes on real slides (HuBMAP tiles as slides, at
 * 0.5 um/px so each is a few model tiles): each finished slide is on disk at once, a killed batch resumes where it
 * stopped, a rerun does nothing, other settings are refused, summaries are rebuilt from every slide in the folder,
 * and --shard halves merged equal the whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliProcess, events, glomseg } from '../../helpers/cli.js';
import { DATA } from '../../helpers/paths.js';

const TILES = path.join(DATA, 'hubmap-vu', 'tiles');
const SLIDES = ['106.jpg', '107.jpg', '108.jpg', '120.jpg', '121.jpg'].map((f) => path.join(TILES, f));
const COMMON = ['--mpp', '0.5', '--device', 'cpu', '--json'];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'glomseg-resume-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const f of (await readdir(dir)).sort()) {
    const info = await stat(path.join(dir, f));
    files.set(f, `${info.ino}:${info.mtimeMs}:${info.size}`);
  }
  return files;
}

/** metrics.json without the timings, which differ from run to run. */
async function metricsWithoutTimes(dir: string): Promise<unknown> {
  const metrics = JSON.parse(await readFile(path.join(dir, 'metrics.json'), 'utf8'));
  for (const s of metrics.slides) delete s.elapsedMs;
  return metrics;
}

describe('glomseg score --out (resumable)', () => {
  it('keeps every finished slide of a killed batch, resumes with the rest, and then has nothing to do', async () => {
    const out = path.join(tmp, 'killed');
    const run = CliProcess.start(['score', ...SLIDES, '--out', out, ...COMMON]);
    await run.until((p) => p.events.filter((e) => e.event === 'result').length >= 2);
    run.child.kill('SIGKILL');
    await run.exited;
    const finished = run.events.filter((e) => e.event === 'result').map((e) => e.slide as string);

    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    for (const slide of finished) {
      expect(manifest.slides[slide].status).toBe('done');
      const name = path.basename(slide, '.jpg');
      const geojson = JSON.parse(await readFile(path.join(out, `${name}.geojson`), 'utf8'));
      expect(geojson.type).toBe('FeatureCollection');
    }
    const unfinished = SLIDES.filter((s) => !finished.includes(s));
    expect(unfinished.length).toBeGreaterThan(0);
    for (const slide of unfinished) expect(manifest.slides[slide].status).not.toBe('done');
    const before = await snapshot(out);

    // The same command again: only the unfinished slides are scored; the finished ones' files are untouched.
    const resumed = await glomseg(['score', ...SLIDES, '--out', out, ...COMMON]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming: ${finished.length} slides? already scored`));
    expect(
      events(resumed.stdout)
        .filter((e) => e.event === 'result')
        .map((e) => e.slide)
        .sort(),
    ).toEqual(unfinished.sort());
    const after = await snapshot(out);
    for (const slide of finished) {
      const name = path.basename(slide, '.jpg');
      for (const file of [`${name}.geojson`, `${name}.result.json`]) expect(after.get(file)).toBe(before.get(file));
    }
    const csv = (await readFile(path.join(out, 'submission.csv'), 'utf8')).trim().split('\n');
    expect(csv.slice(1).map((row) => row.split(',')[0])).toEqual(['106', '107', '108', '120', '121']);
    const metrics = JSON.parse(await readFile(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.slides.map((s: any) => [s.slide, s.status])).toEqual(
      ['106', '107', '108', '120', '121'].map((n) => [n, 'done']),
    );

    // And once more: nothing to do, said so, nothing written.
    const again = await glomseg(['score', ...SLIDES, '--out', out, ...COMMON]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to do: all 5 slides are already scored/);
    expect(events(again.stdout)).toEqual([]);
    expect(await snapshot(out)).toEqual(after);

    // Another slide into the same folder adds a row; the earlier ones stay (summaries come from every slide).
    const more = await glomseg(['score', path.join(TILES, '122.jpg'), '--out', out, ...COMMON]);
    expect(more.code).toBe(0);
    const rows = (await readFile(path.join(out, 'submission.csv'), 'utf8')).trim().split('\n');
    expect(rows).toHaveLength(1 + 6);
    expect(JSON.parse(await readFile(path.join(out, 'metrics.json'), 'utf8')).slides).toHaveLength(6);

    // --no-resume scores a done slide again and writes its new result (same content, new file).
    const redo = await glomseg(['score', SLIDES[0], '--out', out, '--no-resume', ...COMMON]);
    expect(redo.code).toBe(0);
    expect(events(redo.stdout).filter((e) => e.event === 'result')).toHaveLength(1);
    const redone = await snapshot(out);
    expect(redone.get('106.result.json')).not.toBe(after.get('106.result.json'));
    expect(await readFile(path.join(out, '106.geojson'), 'utf8')).toBeTruthy();

    // Other settings into the same folder would mix results: refused, with what to do instead.
    const other = await glomseg(['score', ...SLIDES, '--out', out, '--mpp', '0.6', '--device', 'cpu', '--json']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/other settings.*mpp=0\.5.*mpp=0\.6.*--force/);
  }, 300_000);

  it('splits a batch into --shard halves whose merge equals the whole', async () => {
    const whole = path.join(tmp, 'whole');
    const halves = [path.join(tmp, 'shard-0'), path.join(tmp, 'shard-1')];
    expect((await glomseg(['score', ...SLIDES, '--out', whole, ...COMMON])).code).toBe(0);
    const scored: string[] = [];
    for (const [i, dir] of halves.entries()) {
      const run = await glomseg(['score', ...SLIDES, '--out', dir, '--shard', `${i}/2`, ...COMMON]);
      expect(run.code).toBe(0);
      scored.push(
        ...events(run.stdout)
          .filter((e) => e.event === 'result')
          .map((e) => e.slide),
      );
    }
    // Each slide in exactly one half.
    expect(scored.sort()).toEqual([...SLIDES].sort());
    // env/N takes the index from JOB_COMPLETION_INDEX, as in a Kubernetes Indexed Job; shard 1 is already done.
    const indexed = await glomseg(['score', ...SLIDES, '--out', halves[1], '--shard', 'env/2', ...COMMON], {
      JOB_COMPLETION_INDEX: '1',
    });
    expect(indexed.stderr).toMatch(/nothing to do/);

    const merged = path.join(tmp, 'merged');
    const merge = await glomseg(['merge', ...halves, '--out', merged]);
    expect(merge.code).toBe(0);
    expect(await readFile(path.join(merged, 'submission.csv'), 'utf8')).toBe(
      await readFile(path.join(whole, 'submission.csv'), 'utf8'),
    );
    expect(await metricsWithoutTimes(merged)).toEqual(await metricsWithoutTimes(whole));
    for (const name of ['106', '107', '108', '120', '121']) {
      expect(await readFile(path.join(merged, `${name}.geojson`), 'utf8')).toBe(
        await readFile(path.join(whole, `${name}.geojson`), 'utf8'),
      );
    }
    // Shards of other settings do not pool.
    const other = path.join(tmp, 'other-settings');
    expect(
      (await glomseg(['score', SLIDES[0], '--out', other, '--mpp', '0.6', '--device', 'cpu', '--json'])).code,
    ).toBe(0);
    const refused = await glomseg(['merge', halves[0], other, '--out', path.join(tmp, 'merged-bad')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/other settings/);
    const bad = await glomseg(['score', SLIDES[0], '--shard', '2/2', ...COMMON]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/index must be/);
  }, 300_000);
});
