import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLargeSlide } from '../../../server/src/bench/large-slide.js';
import { RssSampler } from '../../../server/src/bench/rss-sampler.js';
import { ServerProcess } from '../../../server/src/bench/server-process.js';
import { connectGlomseg } from '../../../server/src/client/grpc-client.js';
import { buildTinyModel, type TinyModel } from '../inference/tiny-model.js';
import { kidneyRegion } from '../slides/test-data.js';

let folder: string;
let tiny: TinyModel;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'glomseg-bench-server-'));
  await mkdir(path.join(folder, 'slides'));
  await mkdir(path.join(folder, 'models'));
  // 2048 x 2048 at 0.5 um/px; the tiny model works at 2 um/px: 2 x 2 tiles of 1024 level-0 pixels.
  [tiny] = await Promise.all([
    buildTinyModel({ folder: path.join(folder, 'models') }),
    makeLargeSlide({ source: kidneyRegion, out: path.join(folder, 'slides', 'bench.tif'), width: 2048 }),
  ]);
}, 180_000);

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('ServerProcess', () => {
  it('starts `glomseg serve` on a free port in its own process, serves StreamTiles, and stops on close', async () => {
    const server = await ServerProcess.start({
      slideFolders: [path.join(folder, 'slides')],
      modelFolder: tiny.folder,
      device: 'cpu',
    });
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(server.pid).not.toBe(process.pid);
      expect(server.startupLog.join('\n')).toMatch(/model tiny ready on cpu/);
      const sampler = await RssSampler.start(server.pid, 50);
      const client = await connectGlomseg(server.address);
      try {
        const tiles = [
          { col: 1, row: 1 },
          { col: 0, row: 0 },
        ];
        const results = [];
        for await (const result of client.api.streamTiles({ slideId: 'bench.tif', tiles })) results.push(result);
        expect(results.map((r) => r.requestIndex).sort()).toEqual([0, 1]);
        expect(results[0].grid).toMatchObject({ scale: 4, tileSizeLevel0: 1024, cols: 2, rows: 2, mppSource: 'file' });
      } finally {
        client.close();
      }
      const memory = await sampler.stop();
      // A Node process with ONNX Runtime loaded: tens of megabytes at least, and the peak never below a sample.
      expect(memory.maxSampledRssBytes).toBeGreaterThan(50 * 1024 * 1024);
      expect(memory.hwmBytes).toBeGreaterThanOrEqual(memory.maxSampledRssBytes);
    } finally {
      await server.close();
    }
    expect(server.child.exitCode ?? server.child.signalCode).not.toBeNull();
  }, 120_000);

  it('reports a server that cannot start, with what it said', async () => {
    await expect(
      ServerProcess.start({
        slideFolders: [path.join(folder, 'slides')],
        modelFolder: path.join(folder, 'no-models-here'),
        device: 'cpu',
      }),
    ).rejects.toThrow(/exited .*before listening[\s\S]*models folder/);
  }, 120_000);
});
