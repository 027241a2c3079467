/** The bench's end-to-end figures: one whole-slide ScoreSlide over gRPC, its CPU and memory, and the ratios to raw. */
import { toBinary } from '@bufbuild/protobuf';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import type { ScoreResult } from '@glomseg/shared/glomseg-service.js';
import { scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import { scoreSlideRequestToProto } from '@glomseg/api/client/to-proto.js';
import { ScoreSlideEventSchema } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import type { GlomsegConnection } from '../client/grpc-client.js';
import type { RssSampler } from './rss-sampler.js';
import { readProcessCpuSeconds } from './process-cpu.js';
import type { RawPhase } from './raw-phase.js';
import { log } from './bench-log.js';

/** gRPC's usual client receive limit (Python, Go, Java defaults): the whole-slide result must arrive under it. */
export const CLIENT_RECEIVE_LIMIT = 4 * 1024 * 1024;

export async function measureScoring(
  client: GlomsegConnection,
  server: { pid: number; sampler: RssSampler },
  options: { slideId: string; modelId: string; mpp?: number; grid: TileGrid },
  raw: RawPhase,
) {
  const { sampler } = server;
  const { sessionRun, pool } = raw;
  const { grid } = options;
  sampler.resetMax();
  const cpuBefore = await readProcessCpuSeconds(server.pid);
  const scored = await scoreSlide(client, options);
  const serverCpuSeconds = (await readProcessCpuSeconds(server.pid)) - cpuBefore;
  const scoringRss = sampler.summary();
  // Raw again, right after (the server is idle now): on a shared machine, load drifts during a long run.
  const sessionRunAfter = await raw.measureRaw();
  log(
    `raw session.run after: ${sessionRunAfter.msPerRunMedian.toFixed(1)} ms/run, ${sessionRunAfter.keptMpxPerSecond.toFixed(3)} kept Mpx/s`,
  );
  const rawMpx = (sessionRun.keptMpxPerSecond + sessionRunAfter.keptMpxPerSecond) / 2;
  const rawMsPerRun = (sessionRun.msPerRunMedian + sessionRunAfter.msPerRunMedian) / 2;
  const rawCpuMsPerRun =
    (sessionRun.msPerRunMedian * sessionRun.cpuCoresUsed +
      sessionRunAfter.msPerRunMedian * sessionRunAfter.cpuCoresUsed) /
    2;
  const keptPixels = (grid.slideWidth / grid.scale) * (grid.slideHeight / grid.scale);
  const keptMpxPerSecond = keptPixels / (scored.wallMs / 1000) / 1e6;
  const tiles = scored.tiles;
  const perTile = (ms: number) => Math.round((ms / tiles) * 10) / 10;
  const endToEnd = {
    method: 'ScoreSlide (whole slide) over gRPC from this process to the server process',
    tiles,
    keptModelPixels: keptPixels,
    wallSeconds: scored.wallMs / 1000,
    serverElapsedSeconds: scored.result.elapsedMs / 1000,
    tilesPerSecond: tiles / (scored.wallMs / 1000),
    keptMpxPerSecond,
    polygons: scored.result.polygons.length,
    /** Tiles of bare glass, answered without reading or inference. */
    tilesSkipped: scored.tilesSkipped,
    streamMessages: scored.messages,
    largestMessageBytes: scored.largestMessageBytes,
    clientReceiveLimitBytes: CLIENT_RECEIVE_LIMIT,
    // Summed over tiles; tiles overlap in time (reads run beside inference), so these add up to more than wall time.
    meanPerTileMs: {
      read: perTile(scored.result.totalTimings.readMs),
      inference: perTile(scored.result.totalTimings.inferenceMs),
      postprocess: perTile(scored.result.totalTimings.postprocessMs),
      queue: perTile(scored.result.totalTimings.queueMs),
    },
    /** Share of the wall time the model alone would need at the raw session.run rate (before and after, averaged). */
    modelBusyShare: (tiles * rawMsPerRun) / scored.wallMs,
    /** CPU seconds the server process used per second of scoring (all threads): how many cores it got. */
    serverCpuCoresUsed: serverCpuSeconds / (scored.wallMs / 1000),
    serverCpuMsPerTile: (serverCpuSeconds * 1000) / tiles,
    rawCpuMsPerRun,
  };
  const ratios = {
    endToEndOverSessionRun: keptMpxPerSecond / rawMpx,
    endToEndOverSessionRunBefore: keptMpxPerSecond / sessionRun.keptMpxPerSecond,
    endToEndOverSessionRunAfter: keptMpxPerSecond / sessionRunAfter.keptMpxPerSecond,
    endToEndOverSegmenterPool: keptMpxPerSecond / pool.keptMpxPerSecond,
    // Load-independent view: CPU time of a bare model run over the server's CPU time per tile (all of its work).
    cpuPerTileRawOverEndToEnd: rawCpuMsPerRun / ((serverCpuSeconds * 1000) / tiles),
  };
  return { endToEnd, ratios, scoringRss, sessionRunAfter, result: scored.result };
}

async function scoreSlide(client: GlomsegConnection, options: { slideId: string; modelId: string; mpp?: number }) {
  const started = performance.now();
  let result: ScoreResult | undefined;
  let tiles = 0;
  let tilesSkipped = 0;
  let lastLogged = 0;
  const wire = client.api.scoreSlide(
    scoreSlideRequestToProto({ slideId: options.slideId, modelId: options.modelId, mppOverride: options.mpp }),
  );
  // The largest message the client received (the bench's client keeps gRPC's usual 4 MiB receive limit).
  let messages = 0;
  let largestMessageBytes = 0;
  const events = (async function* () {
    for await (const event of wire) {
      messages++;
      largestMessageBytes = Math.max(largestMessageBytes, toBinary(ScoreSlideEventSchema, event).length);
      yield event;
    }
  })();
  for await (const event of scoreEventsFromProto(events)) {
    if (event.kind === 'progress') {
      tiles = event.progress.tilesTotal;
      tilesSkipped = event.progress.tilesSkipped;
      const now = performance.now();
      if (now - lastLogged > 15_000) {
        lastLogged = now;
        const { tilesDone, tilesTotal, etaMs } = event.progress;
        log(
          `ScoreSlide: ${tilesDone}/${tilesTotal} tiles, ${((now - started) / 1000).toFixed(0)} s, eta ${(etaMs / 1000).toFixed(0)} s`,
        );
      }
    } else result = event.result;
  }
  const wallMs = performance.now() - started;
  if (!result) throw new Error('ScoreSlide ended without a result');
  return { wallMs, tiles, tilesSkipped, result, messages, largestMessageBytes };
}
