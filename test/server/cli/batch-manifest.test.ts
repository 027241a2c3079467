/**
 * The batch manifest's `attempts`: every try at a slide counts, the retries after its server died included. A real
 * `glomseg serve` process is SIGKILLed while it scores the slide, the CLI retries (UNAVAILABLE) until a new server
 * answers on the same port, and the manifest says how many tries it took, as many as the CLI's retry events say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ServerProcess } from '../../../server/src/bench/server-process.js';
import { BatchOutput } from '../../../server/src/cli/batch-manifest.js';
import { CliProcess } from '../../helpers/cli.js';
import { DATA, MODELS } from '../../helpers/paths.js';

const TILES = path.join(DATA, 'hubmap-vu', 'tiles');
const SLIDE = '106.jpg';

let tmp: string;
const servers: ServerProcess[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'glomseg-attempts-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(tmp, { recursive: true, force: true });
});

describe('batch manifest attempts', () => {
  it('counts the retries of a slide whose server died while scoring it', async () => {
    const start = (port = 0) =>
      ServerProcess.start({
        slideFolders: [TILES],
        modelFolder: MODELS,
        device: 'cpu',
        workers: 1,
        args: ['--port', String(port)],
      });
    const first = await start();
    servers.push(first);
    const port = Number(first.address.split(':').pop());
    const out = path.join(tmp, 'out');
    // At 2 um/px the tile is 35 model tiles: the kill lands while it is being scored. Enough attempts to outlast
    // a restart (backoff up to 4 s each).
    const run = CliProcess.start([
      'score',
      SLIDE,
      '--server',
      first.address,
      '--mpp',
      '2',
      '--attempts',
      '40',
      '--out',
      out,
      '--json',
    ]);
    await run.until((p) => p.events.some((e) => e.event === 'progress' && e.tilesDone < e.tilesTotal));
    first.child.kill('SIGKILL');
    await first.exited;
    await run.until((p) => p.events.some((e) => e.event === 'retry'));
    servers.push(await start(port));
    expect(await run.exited, run.stderr).toBe(0);

    const retries = run.events.filter((e) => e.event === 'retry' && e.slide === SLIDE);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(run.events.filter((e) => e.event === 'result').map((e) => e.slide)).toEqual([SLIDE]);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.slides[SLIDE]).toMatchObject({ status: 'done', attempts: retries.length + 1 });
  }, 240_000);
});

describe('BatchOutput attempts on disk', () => {
  it('has each try on disk as it starts, so a run killed mid-try still counts it', async () => {
    const out = path.join(tmp, 'unit');
    const settings = { model: null, mpp: null, threshold: null, region: null, annotations: null };
    const onDisk = async () => JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')).slides['a.tif'];
    await mkdir(out, { recursive: true });
    let batch = await BatchOutput.open(out, settings);
    await batch.begin([{ slide: 'a.tif', name: 'a' }]);
    expect(await onDisk()).toMatchObject({ status: 'pending', attempts: 0 });
    await batch.recordAttempt('a.tif', 'a');
    expect(await onDisk()).toMatchObject({ status: 'pending', attempts: 1 });
    // The run dies here; the next one resumes the slide, tries twice more, and the slide ends done.
    batch = await BatchOutput.open(out, settings);
    await batch.begin([{ slide: 'a.tif', name: 'a' }]);
    await batch.recordAttempt('a.tif', 'a');
    await batch.recordAttempt('a.tif', 'a');
    await batch.recordDone(
      { slide: 'a.tif', name: 'a', slideId: 'a.tif', width: 4, height: 4, glomeruli: 0, elapsedMs: 1, rle: '' },
      [],
    );
    expect(await onDisk()).toEqual({ name: 'a', status: 'done', attempts: 3 });
    await batch.recordFailed('a.tif', 'a', 'late');
    expect(await onDisk()).toEqual({ name: 'a', status: 'done', attempts: 3 });
  });
});
