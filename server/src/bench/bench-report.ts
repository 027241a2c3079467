/** The bench's JSON document: what was measured, on what, and against which targets. */
import os from 'node:os';
import path from 'node:path';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import type { MachineInfo } from './machine-info.js';
import type { RssSummary } from './rss-sampler.js';
import { servedInputSize } from './raw-throughput.js';
import type { RawPhase } from './raw-phase.js';
import type { measureScoring } from './score-phase.js';
import type { measureViewports } from './viewport-latency.js';
import { REPO_ROOT } from '../repo-paths.mjs';

const TARGETS = { endToEndOverRaw: 0.8, peakRssBytes: 1.5 * 1024 ** 3 };

export interface BenchFigures {
  /** Which setup of the run these figures are (bench-setups.ts). */
  setup: { name: string; precision: string; scoreTileSize: number };
  machine: MachineInfo;
  requestedDevice: string;
  card: ModelCard;
  slideInfo: object;
  grid: TileGrid;
  servedDevice: string;
  serverStartupLog: string[];
  raw: RawPhase;
  scoring?: Awaited<ReturnType<typeof measureScoring>>;
  viewports: Awaited<ReturnType<typeof measureViewports>>;
  rssAfterStart: number;
  rss: RssSummary;
}

export function benchReport(figures: BenchFigures): object {
  const { card, grid, raw, scoring, rss } = figures;
  const ratio = scoring?.ratios.endToEndOverSessionRun;
  const memory = {
    afterStartBytes: figures.rssAfterStart,
    maxSampledWhileScoringBytes: scoring?.scoringRss.maxSampledRssBytes,
    peakBytes: rss.hwmBytes,
    peakSource: 'VmHWM of the server process (/proc/<pid>/status): its peak over its whole life',
    samples: rss.samples,
  };
  return {
    setup: figures.setup,
    machine: figures.machine,
    loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    device: {
      requested: figures.requestedDevice,
      used: raw.device,
      modelFile: displayPath(raw.modelPath),
      serverReports: figures.servedDevice,
    },
    model: {
      id: card.id,
      tileSize: card.tileSize,
      scoreTileSize: figures.setup.scoreTileSize,
      margin: card.margin,
      inputSize: servedInputSize(card),
      mpp: card.mpp,
      downsample: card.downsample,
      variants: card.variants ?? {},
    },
    slide: figures.slideInfo,
    grid: {
      scale: grid.scale,
      level: grid.level,
      tileSizeLevel0: grid.tileSizeLevel0,
      cols: grid.cols,
      rows: grid.rows,
      mppAssumed: grid.mppAssumed,
    },
    server: {
      workers: raw.serverWorkers,
      intraOpThreads: raw.intraOpThreads,
      startup: figures.serverStartupLog.filter((l) => /inference|model|listening/.test(l)),
    },
    definitions: {
      keptMpxPerSecond:
        'millions of model-resolution output pixels kept per second: tileSize^2 per model run (the margin is read and computed but not counted); ' +
        'end to end: the slide area in model pixels (level-0 area / scale^2) divided by the ScoreSlide wall time seen by the client',
      raw:
        'sessionRun: onnxruntime session.run on one session in a loop, same options, provider and file as the server worker, ' +
        'measured before and again after ScoreSlide; the ratio uses the mean of the two rates; ' +
        "segmenterPool: the server's OnnxSegmenter (worker threads, pre/post-processing) with the server's worker settings",
    },
    raw: {
      sessionRun: { ...raw.sessionRun, modelFile: displayPath(raw.sessionRun.modelFile) },
      sessionRunAfterScoring: scoring?.sessionRunAfter && {
        ...scoring.sessionRunAfter,
        modelFile: displayPath(scoring.sessionRunAfter.modelFile),
      },
      segmenterPool: raw.pool,
    },
    endToEnd: scoring?.endToEnd,
    ratios: scoring?.ratios,
    viewport: figures.viewports,
    memory,
    targets: {
      endToEndOverRawAtLeast: TARGETS.endToEndOverRaw,
      endToEndOverRawMet: ratio === undefined ? undefined : ratio >= TARGETS.endToEndOverRaw,
      peakRssBelowBytes: TARGETS.peakRssBytes,
      peakRssMet: rss.hwmBytes < TARGETS.peakRssBytes,
    },
  };
}

/** Repo-relative when inside the repo, else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(REPO_ROOT, file);
  return relative.startsWith('..') ? file : relative;
}
