/**
 * The hardening bench's case for issue 26 item 7: GetSlideInfo on several large PNG slides at once (each decoded
 * whole by sharp), and meanwhile, back to back, ListSlides and viewer tile reads of a TIFF slide, which only read
 * the file. Before the flat-image decode queue, the decodes took every libuv thread and those reads waited behind
 * them (ListSlides 8.6 s, tiles 4 ms -> 1.7 s). Prints the figures; the tests assert the behaviour.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { VIEWER_TILE_SIZE } from '@glomseg/shared/constants.js';
import { connectGlomseg } from '../client/grpc-client.js';
import { ServerProcess } from './server-process.js';
import { writeLargePngs } from './hostile-inputs.js';

export interface FlatImageCaseOptions {
  /** Folder of the TIFF slide whose tiles are read (ids get the folder's base name: two folders are served). */
  tiffFolder: string;
  tiffName: string;
  modelFolder: string;
  /** PNGs asked for at once, and their edge in pixels (defaults: the probe's 6 of 14,000 = 196 Mpixel). */
  count?: number;
  edge?: number;
}

function summary(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return `${at(0.5).toFixed(1)} / ${at(0.99).toFixed(1)} / ${(sorted.at(-1) ?? Number.NaN).toFixed(1)}`;
}

export async function flatImageCase(options: FlatImageCaseOptions): Promise<void> {
  const count = options.count ?? 6;
  const edge = options.edge ?? 14_000;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-flat-'));
  let server: ServerProcess | undefined;
  try {
    const started = performance.now();
    await writeLargePngs(dir, count, edge);
    console.log(
      `\n## ${count} GetSlideInfo at once on ${edge}x${edge} PNGs (${((edge * edge) / 1e6).toFixed(0)} Mpixel; written in ${((performance.now() - started) / 1000).toFixed(0)} s), and file reads meanwhile`,
    );
    server = await ServerProcess.start({
      slideFolders: [options.tiffFolder, dir],
      modelFolder: options.modelFolder,
      device: 'cpu',
      http: true,
    });
    const client = await connectGlomseg(server.address);
    try {
      const ids = (await client.api.listSlides({})).slides.map((s) => s.id);
      const tiff = ids.find((id) => id.endsWith(`/${options.tiffName}`))!;
      const pngs = ids.filter((id) => id.includes('/flat-'));
      const info = await client.api.getSlideInfo({ slideId: tiff });
      const level = info.levels[0];
      const tileEdge = level.tileWidth || VIEWER_TILE_SIZE;
      const cols = Math.ceil(level.width / tileEdge);
      const rows = Math.ceil(level.height / tileEdge);
      let next = 0;
      // A different tile each time, so the server's caches do not answer.
      const readTile = async () => {
        const n = next++ % (cols * rows);
        const response = await fetch(
          `${server!.httpUrl}/api/slides/${encodeURIComponent(tiff)}/tiles/0/${n % cols}/${Math.floor(n / cols)}`,
        );
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`tile: HTTP ${response.status}`);
      };
      const probe = async (listings: number[], tiles: number[]) => {
        let t0 = performance.now();
        await client.api.listSlides({});
        listings.push(performance.now() - t0);
        t0 = performance.now();
        await readTile();
        tiles.push(performance.now() - t0);
      };
      const idle = { listings: [] as number[], tiles: [] as number[] };
      for (let i = 0; i < 20; i++) await probe(idle.listings, idle.tiles);
      const busy = { listings: [] as number[], tiles: [] as number[] };
      let done = false;
      const probing = (async () => {
        while (!done) await probe(busy.listings, busy.tiles);
      })();
      const t0 = performance.now();
      const answers = await Promise.all(
        pngs.map((id) =>
          client.api.getSlideInfo({ slideId: id }, { timeoutMs: 600_000 }).then(() => 'OK', describeCallError),
        ),
      );
      const seconds = (performance.now() - t0) / 1000;
      done = true;
      await probing;
      const ok = answers.filter((a) => a === 'OK').length;
      console.log(
        `GetSlideInfo x${count}: ${ok} OK${ok < count ? ` (${answers.find((a) => a !== 'OK')})` : ''} in ${seconds.toFixed(1)} s`,
      );
      console.log('| reads of the TIFF slide | probes | ListSlides p50 / p99 / max ms | tile p50 / p99 / max ms |');
      console.log('| --- | --- | --- | --- |');
      console.log(`| idle | ${idle.tiles.length} | ${summary(idle.listings)} | ${summary(idle.tiles)} |`);
      console.log(
        `| during the ${count} GetSlideInfo | ${busy.tiles.length} | ${summary(busy.listings)} | ${summary(busy.tiles)} |`,
      );
    } finally {
      client.close();
    }
  } finally {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
