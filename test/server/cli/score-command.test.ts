/**
 * `glomseg score` as a user runs it: a separate process, real slides, a real server (in-process by default, or
 * another process's over gRPC with --server), outputs on disk, exit codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GlomsegApp } from '../../../server/src/app.js';
import { decodeMaskRle } from '@glomseg/shared/rle.js';
import { CliProcess } from '../../helpers/cli.js';
import { EVAL_REGION, MODELS, REPO_ROOT, WSI } from '../../helpers/paths.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const CLI = path.join(REPO_ROOT, 'server', 'src', 'cli', 'main.ts');
const REGION = path.join(EVAL_REGION, 'kidney-region.tif');
const JP2K = path.join(WSI, 'TCGA-CR-7395-01A-01-TS1-jp2k.svs');

async function glomseg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO_ROOT,
      timeout: 240_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error: any) {
    if (typeof error?.code !== 'number') throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'glomseg-cli-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('glomseg score', () => {
  it('scores a region with annotations, writes GeoJSON, RLE and metrics, and reports a failing slide without stopping', async () => {
    const dir = path.join(out, 'in-process');
    const broken = path.join(out, 'broken.svs');
    await writeFile(broken, Buffer.alloc(0));
    const { code, stdout, stderr } = await glomseg([
      'score',
      REGION,
      broken,
      '--annotations',
      EVAL_REGION,
      '--region',
      '0,0,3200,2400',
      '--out',
      dir,
      '--json',
    ]);
    expect(code).toBe(1); // the empty slide fails; the exit code says not all succeeded
    // Native libraries' own warnings (Dawn's "Couldn't load Vulkan ... BackendVk.cpp") stay out of the terminal.
    expect(stderr).not.toMatch(/Vulkan|BackendVk|dawn|\.cpp:\d+/i);
    const events = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const failure = events.find((e) => e.event === 'error');
    expect(failure.slide).toBe(broken);
    expect(failure.error).toMatch(/INVALID_ARGUMENT: .*not a readable TIFF: broken\.svs: the file is empty/);
    const result = events.find((e) => e.event === 'result');
    expect(result.slide).toBe(REGION);
    expect(events.some((e) => e.event === 'progress')).toBe(true);

    const metrics = JSON.parse(await readFile(path.join(dir, 'metrics.json'), 'utf8'));
    const region = metrics.slides.find((s: any) => s.slide === 'kidney-region');
    expect(region.ok).toBe(true);
    expect(region.metrics.truthCount).toBeGreaterThan(10);
    expect(region.metrics.globalDice).toBeGreaterThan(0.5);
    expect(metrics.slides.find((s: any) => s.slide === 'broken').ok).toBe(false);
    // One slide scored: the pooled figures are its own.
    expect(metrics.overall.truthCount).toBe(region.metrics.truthCount);
    expect(metrics.overall.globalDice).toBeCloseTo(region.metrics.globalDice, 12);
    expect(metrics.overall.meanTileDice).toBeCloseTo(region.metrics.meanTileDice, 12);

    const geojson = JSON.parse(await readFile(path.join(dir, 'kidney-region.geojson'), 'utf8'));
    expect(geojson.type).toBe('FeatureCollection');
    expect(geojson.features).toHaveLength(region.glomeruli);
    expect(geojson.features[0].properties.classification.name).toBe('Glomerulus (predicted)');
    expect(geojson.features[0].properties.objectType).toBe('detection');
    // The region's file records no pixel size: its areas rest on the training scans' 0.5 um/px, and say so.
    expect(region.scale).toMatchObject({ mpp: 0.5, source: 'model-default' });
    expect(Object.keys(geojson.features[0].properties.measurements)).toEqual([
      'Area µm^2',
      'Assumed µm/px',
      'Mean probability',
    ]);
    expect(new Set(geojson.features.map((f: any) => f.id)).size).toBe(geojson.features.length);
    // No pinholes: a hole smaller than the smallest glomerulus is filled.
    expect(geojson.features.filter((f: any) => f.geometry.coordinates.length > 1)).toEqual([]);
    const xs = geojson.features.flatMap((f: any) => f.geometry.coordinates[0].map((p: number[]) => p[0]));
    expect(Math.max(...xs)).toBeLessThanOrEqual(6400);

    const csv = (await readFile(path.join(dir, 'submission.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('id,predicted');
    const [id, rle] = csv[1].split(',');
    expect(id).toBe('kidney-region');
    // The RLE covers the whole slide; decoded (row-major), its pixels inside the scored region ~ the predicted area.
    const mask = decodeMaskRle(rle, 6400, 4800);
    let pixels = 0;
    for (let y = 0; y < 2400; y++) for (let x = 0; x < 3200; x++) pixels += mask[y * 6400 + x];
    expect(pixels).toBeGreaterThan(region.metrics.predictedArea * 0.95);
    expect(pixels).toBeLessThan(region.metrics.predictedArea * 1.05);
  }, 300_000);

  it('scores an Aperio JPEG 2000 slide end to end (server/src/slides/tiff-codecs/jpeg2000.ts)', async () => {
    // Not kidney: the count does not matter, only that every tile was read, inferred and written.
    const dir = path.join(out, 'jp2k');
    const { code, stdout, stderr } = await glomseg(['score', JP2K, '--out', dir, '--json']);
    expect(code, stderr).toBe(0);
    const events = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    const result = events.find((e) => e.event === 'result');
    expect(result.slide).toBe(JP2K);
    const geojson = JSON.parse(await readFile(path.join(dir, 'TCGA-CR-7395-01A-01-TS1-jp2k.geojson'), 'utf8'));
    expect(geojson.features).toHaveLength(result.glomeruli);
  }, 300_000);

  it('talks to a server in another process with --server', async () => {
    const app = await GlomsegApp.start({
      slideFolders: [EVAL_REGION],
      modelFolder: MODELS,
      httpPort: false,
      device: 'cpu',
    });
    try {
      const { code, stdout } = await glomseg([
        'score',
        'kidney-region-quarter.tif',
        '--server',
        app.grpcAddress,
        '--mpp',
        '2',
        '--json',
      ]);
      expect(code).toBe(0);
      const result = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((e) => e.event === 'result');
      expect(result.glomeruli).toBeGreaterThan(0);
      expect(app.service.stats().completedStreams).toBe(1);
      const info = await glomseg(['info', 'kidney-region.tif', '--server', app.grpcAddress]);
      expect(info.code).toBe(0);
      expect(JSON.parse(info.stdout)).toMatchObject({ width: 6400, height: 4800, models: [{ id: 'glomseg-unet' }] });
    } finally {
      await app.close();
    }
  }, 300_000);

  it('says what is wrong with its arguments (exit code 2)', async () => {
    const { code, stderr } = await glomseg(['score', '/no/such/slide.tif']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no such slide file/);
    const bad = await glomseg(['score', REGION, '--region', '1,2,3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/x,y,width,height/);
  });
});

/** What `score` writes while it runs is chosen with --progress, never by where stderr goes. */
describe('glomseg score --progress', () => {
  const served = useGrpcApp();
  const score = (...extra: string[]) =>
    glomseg(['score', 'kidney-region-quarter.tif', '--server', served.app.grpcAddress, '--mpp', '2', ...extra]);
  const jsonLines = (text: string) => text.split('\n').filter((line) => line.startsWith('{'));

  it('says in --help what each mode writes where, and the default', async () => {
    const { stdout } = await glomseg(['score', '--help']);
    const help = stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(
      /--progress <mode> .*bar.*stderr.*json.*JSON lines on stdout.*none.*default: bar when stderr is a terminal, else none.*choices: "bar", "json", "none"/,
    );
    expect(help).toMatch(/--json +the same as --progress json/);
  });

  it('writes no JSON lines unless asked: by default with stderr not a terminal, and with none, stdout holds the table', async () => {
    for (const run of [await score(), await score('--progress', 'none')]) {
      expect(run.code).toBe(0);
      expect(jsonLines(run.stdout)).toEqual([]);
      expect(run.stdout).toMatch(/^slide +glomeruli +um\/px/m);
    }
  }, 240_000);

  it('writes JSON lines on stdout with json (or --json), the table then on stderr', async () => {
    for (const run of [await score('--progress', 'json'), await score('--json')]) {
      expect(run.code).toBe(0);
      const events = run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['start', 'progress', 'result']));
      expect(run.stderr).toMatch(/^slide +glomeruli +um\/px/m);
    }
  }, 240_000);

  it('refuses --json beside another --progress (exit code 2)', async () => {
    const { code, stderr } = await score('--json', '--progress', 'bar');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--json.*cannot be used with.*--progress/);
  });
});

/**
 * Stopping a running score: SIGTERM (a Job's pod stopped, or npm's shell gone: server/src/cli/launcher-watch.ts)
 * stops it as Ctrl-C does, in order, and a signal that follows the first (a launcher passing it on) cuts nothing short.
 */
describe('glomseg score stopped by a signal', () => {
  const start = async () => {
    // At an assumed 0.25 um/px the region is hundreds of model tiles: still running when the signal comes.
    const run = CliProcess.start(['score', REGION, '--mpp', '0.25', '--device', 'cpu', '--json']);
    await run.until((p) => p.events.some((e) => e.event === 'progress'), 180_000);
    return run;
  };

  it('stops in order on SIGTERM: says so, keeps what is done, exits 143', async () => {
    const run = await start();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(run.stderr).toMatch(/glomseg: stopped \(SIGTERM\) after 0 of 1 slide; nothing was written/);
  }, 240_000);

  it('takes a SIGTERM after Ctrl-C as the same stop: one message, exit 130', async () => {
    const run = await start();
    run.child.kill('SIGINT');
    await run.until((p) => /interrupted \(Ctrl-C\)/.test(p.stderr), 60_000);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(130);
    expect(run.stderr.match(/glomseg: (interrupted|stopped)/g)).toEqual(['glomseg: interrupted']);
  }, 240_000);
});
