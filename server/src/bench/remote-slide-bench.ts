/**
 * `npm run bench:remote`: what scoring a slide by URL costs against scoring the same file from disk. Scores
 * kidney-region.tif (or --slide FILE) whole with the in-process server, once from the local file and once by URL
 * from a loopback HTTP server with Range support, each with a fresh server (no caches shared), and prints bytes
 * fetched against the file's size, range requests, and wall times. Prints one JSON document.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { GlomsegApp } from '../app.js';
import { scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import { connectGlomseg } from '../client/grpc-client.js';
import { DEMO_SLIDE_FOLDER, DEFAULT_MODEL_FOLDER } from '../cli/paths.js';
import { RangeServer } from './range-file-server.js';

async function scoreOnce(
  slide: { file?: string; url?: string },
  device: string,
): Promise<{ ms: number; glomeruli: number }> {
  const app = await GlomsegApp.start({
    slideFolders: [],
    slideFiles: slide.file ? [slide.file] : [],
    slideUrlPrefixes: slide.url ? [slide.url] : [],
    modelFolder: DEFAULT_MODEL_FOLDER,
    device: device as never,
    httpPort: false,
    grpcPort: 0,
    warm: true,
  });
  const client = await connectGlomseg(app.grpcAddress);
  try {
    const started = performance.now();
    let glomeruli = 0;
    for await (const event of scoreEventsFromProto(
      client.api.scoreSlide({ slideId: slide.url ?? path.basename(slide.file!) }),
    )) {
      if (event.kind === 'result') glomeruli = event.result.polygons.length;
    }
    return { ms: Math.round(performance.now() - started), glomeruli };
  } finally {
    client.close();
    await app.close();
  }
}

const program = new Command('bench-remote')
  .option('--slide <file>', 'slide to score', path.join(DEMO_SLIDE_FOLDER, 'kidney-region.tif'))
  .option('--device <device>', 'execution provider', 'cpu')
  .action(async (opts) => {
    const size = (await stat(opts.slide)).size;
    const http = await RangeServer.start();
    try {
      const url = http.serve(`slides/${path.basename(opts.slide)}`, { file: opts.slide });
      const local = await scoreOnce({ file: opts.slide }, opts.device);
      const before = { bytes: http.bytesSent, requests: http.requests };
      const remote = await scoreOnce({ url }, opts.device);
      const bytes = http.bytesSent - before.bytes;
      const report = {
        slide: path.basename(opts.slide),
        fileBytes: size,
        local: { wallMs: local.ms, glomeruli: local.glomeruli },
        url: {
          wallMs: remote.ms,
          glomeruli: remote.glomeruli,
          bytesFetched: bytes,
          rangeRequests: http.requests - before.requests,
          fractionOfFile: Number((bytes / size).toFixed(3)),
        },
        urlOverLocalTime: Number((remote.ms / local.ms).toFixed(2)),
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } finally {
      await http.close();
    }
  });

await program.parseAsync(process.argv);
