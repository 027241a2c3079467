/**
 * The cohort batch over several servers, as it runs in a cluster but on loopback: three real `glomseg serve`
 * processes, slides by file (the servers' folder) and by URL (a real HTTP server with Range support), one grpc-js
 * round_robin channel over all three. One server is SIGKILLed while it scores a slide: the batch finishes on the
 * other two, every slide's output equals a single-server run, no finished slide is scored twice, a rerun does
 * nothing and says so, and two --shard halves merged equal the whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ServerProcess } from '../../../server/src/bench/server-process.js';
import { CliProcess, events, glomseg } from '../../helpers/cli.js';
import { DATA, EVAL_REGION, MODELS, WSI } from '../../helpers/paths.js';
import { RangeServer } from '../../../server/src/bench/range-file-server.js';

const TILES = path.join(DATA, 'hubmap-vu', 'tiles');
const FILE_SLIDES = ['106.jpg', '107.jpg', '108.jpg', '120.jpg'];
const COMMON = ['--mpp', '0.5', '--json'];

let tmp: string;
let http: RangeServer;
let servers: ServerProcess[] = [];
let reference: ServerProcess;
let urlSlides: string[];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'glomseg-multi-'));
  http = await RangeServer.start();
  const quarter = path.join(EVAL_REGION, 'kidney-region-quarter.tif');
  urlSlides = [
    http.serve('cohort/region-a.tif', { file: quarter }),
    http.serve('cohort/region-b.tif', { file: quarter }),
    http.serve('cohort/region-c.tif', { file: quarter }),
    http.serve('cohort/cmu-1.svs', { file: path.join(WSI, 'CMU-1-Small-Region.svs') }),
  ];
  // Three servers for the batch, and a fourth that scores the reference: no batch server has seen a slide before
  // the batch, so none answers from its cache and the killed one is always mid-slide.
  [reference, ...servers] = await Promise.all(
    [0, 1, 2, 3].map(() =>
      ServerProcess.start({
        slideFolders: [TILES],
        modelFolder: MODELS,
        device: 'cpu',
        workers: 1,
        args: ['--slide-url-prefix', `${http.url}/cohort/`],
      }),
    ),
  );
}, 240_000);

afterAll(async () => {
  await Promise.all([reference, ...servers].filter(Boolean).map((s) => s.close()));
  await http?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Each slide's files without what differs between runs (timings). */
async function slideOutputs(dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const file of (await readdir(dir)).sort()) {
    if (file.endsWith('.geojson')) out[file] = await readFile(path.join(dir, file), 'utf8');
    if (file.endsWith('.result.json')) {
      const { elapsedMs: _, ...result } = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
      out[file] = result;
    }
  }
  return out;
}

async function metricsWithoutTimes(dir: string): Promise<unknown> {
  const metrics = JSON.parse(await readFile(path.join(dir, 'metrics.json'), 'utf8'));
  for (const s of metrics.slides) delete s.elapsedMs;
  return metrics;
}

describe('a batch over three servers, one killed mid-batch', () => {
  it('finishes on the other two with the outputs of a single-server run', async () => {
    const slides = [...FILE_SLIDES, ...urlSlides];
    expect(slides).toHaveLength(8);
    const single = path.join(tmp, 'single');
    const alone = await glomseg(['score', ...slides, '--server', reference.address, '--out', single, ...COMMON]);
    expect(alone.code, alone.stderr).toBe(0);
    const target = `ipv4:${servers.map((s) => s.address).join(',')}`;
    const command = [
      'score',
      ...slides,
      '--server',
      target,
      '--parallel',
      '3',
      '--out',
      path.join(tmp, 'multi'),
      ...COMMON,
    ];
    const run = CliProcess.start(command);
    // Kill the server that is scoring the first slide to get under way (the CLI names it in its progress events),
    // while that slide still has tiles to go. No server has scored anything before, so none answers from a cache.
    let victim: ServerProcess | undefined;
    let inFlight = '';
    await run.until((p) => {
      const busy = p.events.find((e) => e.event === 'progress' && e.server && e.tilesDone < e.tilesTotal);
      const done = new Set(p.events.filter((e) => e.event === 'result').map((e) => e.slide));
      victim =
        busy && !done.has(busy.slide)
          ? servers.find((s) => busy.server.endsWith(`:${s.address.split(':').pop()}`))
          : undefined;
      inFlight = busy?.slide ?? '';
      return victim !== undefined;
    });
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    expect(await run.exited, run.stderr).toBe(0);

    const results = run.events.filter((e) => e.event === 'result');
    // Every slide finished exactly once (none lost, none scored again), the killed one after a retry elsewhere.
    expect(results.map((e) => e.slide).sort()).toEqual([...slides].sort());
    const retries = run.events.filter((e) => e.event === 'retry');
    expect(retries.map((e) => e.slide)).toContain(inFlight);
    expect(retries.every((e) => /UNAVAILABLE/.test(e.error))).toBe(true);
    const survivors = servers.filter((s) => s !== victim).map((s) => s.address.split(':').pop());
    const lastServerOf = (slide: string) =>
      run.events.filter((e) => e.event === 'progress' && e.slide === slide && e.server).pop().server;
    expect(survivors.some((port) => lastServerOf(inFlight).endsWith(`:${port}`))).toBe(true);

    const multi = path.join(tmp, 'multi');
    expect(await slideOutputs(multi)).toEqual(await slideOutputs(single));
    expect(await readFile(path.join(multi, 'submission.csv'), 'utf8')).toBe(
      await readFile(path.join(single, 'submission.csv'), 'utf8'),
    );
    expect(await metricsWithoutTimes(multi)).toEqual(await metricsWithoutTimes(single));

    // The same command again (the dead server still named): nothing to do, said so, nothing written.
    const before = await Promise.all(
      (await readdir(multi)).sort().map(async (f) => [f, (await stat(path.join(multi, f))).mtimeMs]),
    );
    const again = await glomseg(command);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to do: all 8 slides are already scored/);
    const after = await Promise.all(
      (await readdir(multi)).sort().map(async (f) => [f, (await stat(path.join(multi, f))).mtimeMs]),
    );
    expect(after).toEqual(before);

    // Two shards on the surviving servers, merged: the whole.
    const alive = `ipv4:${servers
      .filter((s) => s !== victim)
      .map((s) => s.address)
      .join(',')}`;
    const halves = [path.join(tmp, 'shard-0'), path.join(tmp, 'shard-1')];
    for (const [i, dir] of halves.entries()) {
      const shard = await glomseg([
        'score',
        ...slides,
        '--server',
        alive,
        '--parallel',
        '2',
        '--shard',
        `${i}/2`,
        '--out',
        dir,
        ...COMMON,
      ]);
      expect(shard.code, shard.stderr).toBe(0);
    }
    const merged = path.join(tmp, 'merged');
    expect((await glomseg(['merge', ...halves, '--out', merged])).code).toBe(0);
    expect(await slideOutputs(merged)).toEqual(await slideOutputs(multi));
    expect(await readFile(path.join(merged, 'submission.csv'), 'utf8')).toBe(
      await readFile(path.join(multi, 'submission.csv'), 'utf8'),
    );
    expect(await metricsWithoutTimes(merged)).toEqual(await metricsWithoutTimes(multi));
  }, 300_000);

  it('takes a dns:/// target as a headless Service gives it', async () => {
    const live = servers.find((s) => s.child.exitCode === null && s.child.signalCode === null)!;
    const info = await glomseg(['info', '106.jpg', '--server', `dns:///localhost:${live.address.split(':').pop()}`]);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ width: 1600, height: 1200 });
  });

  it('does not retry a slide that is itself bad', async () => {
    const alive = `ipv4:${servers
      .filter((s) => s.child.exitCode === null && s.child.signalCode === null)
      .map((s) => s.address)
      .join(',')}`;
    const out = path.join(tmp, 'bad');
    const bad = [`${http.url}/elsewhere/region.tif`, `${http.url}/cohort/missing.tif`, 'no-such-tile.jpg'];
    const run = await glomseg(['score', ...bad, '--server', alive, '--parallel', '3', '--out', out, ...COMMON]);
    expect(run.code).toBe(1);
    const got = events(run.stdout);
    expect(got.filter((e) => e.event === 'retry')).toEqual([]);
    const errors = Object.fromEntries(got.filter((e) => e.event === 'error').map((e) => [e.slide, e.error]));
    expect(errors[bad[0]]).toMatch(/^INVALID_ARGUMENT: .*not under an allowed prefix/);
    expect(errors[bad[1]]).toMatch(/^NOT_FOUND: .*404/);
    expect(errors[bad[2]]).toMatch(/has no slide 'no-such-tile.jpg'/);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(Object.values(manifest.slides).map((e: any) => e.status)).toEqual(['failed', 'failed', 'failed']);
    expect(manifest.slides[bad[0]].attempts).toBe(1);
  }, 120_000);

  it('loses no work when a server drains mid-batch (SIGTERM, as in a rolling update)', async () => {
    const alive = servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    expect(alive.length).toBe(2);
    const out = path.join(tmp, 'rolling');
    const run = CliProcess.start([
      'score',
      ...FILE_SLIDES,
      '--server',
      `ipv4:${alive.map((s) => s.address).join(',')}`,
      '--parallel',
      '2',
      '--out',
      out,
      ...COMMON,
    ]);
    let draining: ServerProcess | undefined;
    await run.until((p) => {
      const busy = p.events.find((e) => e.event === 'progress' && e.server);
      draining = busy && alive.find((s) => busy.server.endsWith(`:${s.address.split(':').pop()}`));
      return draining !== undefined;
    });
    draining!.child.kill('SIGTERM');
    expect(await run.exited, run.stderr).toBe(0);
    expect(await draining!.exited).toBe(0);
    const results = run.events.filter((e) => e.event === 'result').map((e) => e.slide);
    expect(results.sort()).toEqual([...FILE_SLIDES].sort());
    // Whatever the drain refused was retried elsewhere, never failed.
    expect(run.events.filter((e) => e.event === 'error')).toEqual([]);
    for (const retry of run.events.filter((e) => e.event === 'retry')) expect(retry.error).toMatch(/UNAVAILABLE/);
    expect(await slideOutputs(out)).toEqual(
      Object.fromEntries(
        Object.entries(await slideOutputs(path.join(tmp, 'single'))).filter(([f]) =>
          FILE_SLIDES.some((s) => f.startsWith(path.basename(s, '.jpg'))),
        ),
      ),
    );
  }, 120_000);
});
