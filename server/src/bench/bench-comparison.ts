/**
 * The bench's side-by-side table: each setup's end-to-end and raw throughput, its ratio, time, skipped tiles,
 * viewport latency and peak memory, its speed over the run's first setup, and how far its polygons agree with those
 * of the first setup of the same model (pixel Dice and object F1, in model pixels: the seam-join check of larger
 * windows, and fp32 against int8).
 */
import type { ScoreResult } from '@glomseg/shared/glomseg-service.js';
import type { BenchSetup } from './bench-setups.js';
import type { RssSummary } from './rss-sampler.js';
import type { measureScoring } from './score-phase.js';
import { polygonAgreement } from './polygon-agreement.js';

export interface SetupFigures {
  setup: BenchSetup;
  report: object;
  scoring?: Awaited<ReturnType<typeof measureScoring>>;
  rss: RssSummary;
}

const round = (value: number | undefined, digits = 3) =>
  value === undefined ? undefined : Math.round(value * 10 ** digits) / 10 ** digits;

export function compareSetups(measured: SetupFigures[]): object[] {
  const first = measured[0]?.scoring?.endToEnd.keptMpxPerSecond;
  const baselines = new Map<number, ScoreResult>();
  return measured.map(({ setup, report, scoring, rss }) => {
    const result = scoring?.result;
    const baseline = baselines.get(setup.modelIndex);
    if (result && !baseline) baselines.set(setup.modelIndex, result);
    const agreement =
      result && baseline && baseline !== result
        ? polygonAgreement(baseline.polygons, result.polygons, baseline.region, baseline.grid.scale)
        : undefined;
    const e2e = scoring?.endToEnd;
    const { viewport, raw, device } = report as {
      device: { modelFile: string };
      viewport?: { medianFirstTileMs?: number; medianLastTileMs?: number };
      raw: { sessionRun: { keptMpxPerSecond: number } };
    };
    return {
      setup: setup.name,
      modelFile: device.modelFile.split('/').pop(),
      scoreTileSize: setup.scoreTileSize,
      endToEndKeptMpxPerSecond: round(e2e?.keptMpxPerSecond),
      overFirstSetup: round(e2e && first ? e2e.keptMpxPerSecond / first : undefined, 2),
      rawKeptMpxPerSecond: round(raw.sessionRun.keptMpxPerSecond),
      endToEndOverRaw: round(scoring?.ratios.endToEndOverSessionRun, 2),
      wallSeconds: round(e2e?.wallSeconds, 1),
      tiles: e2e?.tiles,
      tilesSkipped: e2e?.tilesSkipped,
      polygons: e2e?.polygons,
      viewportFirstLastMs: [viewport?.medianFirstTileMs, viewport?.medianLastTileMs].map((v) => round(v, 0)),
      peakRssMB: Math.round(rss.hwmBytes / 1e6),
      agreementWithFirstOfModel: agreement && { dice: round(agreement.dice, 4), f1: round(agreement.f1, 4) },
    };
  });
}
