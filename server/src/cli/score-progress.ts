/** What `glomseg score` writes while it runs, one reporter per --progress mode. */
import cliProgress from 'cli-progress';
import { slideNameOf } from './slide-names.js';
import type { SlideScore } from './slide-score.js';

/**
 * What `score` writes while it runs: `bar`, progress bars on stderr; `json`, one JSON object a line on stdout (events
 * start, progress, result, error, retry), the summary table then going to stderr; `none`, nothing but failures (on
 * stderr). The default, bar on a terminal and none otherwise, never puts JSON on stdout unasked.
 */
export const PROGRESS_MODES = ['bar', 'json', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export function defaultProgress(stderrIsTerminal = process.stderr.isTTY === true): ProgressMode {
  return stderrIsTerminal ? 'bar' : 'none';
}

export interface Reporter {
  start(slide: string): void;
  progress(slide: string, done: number, total: number, etaMs: number, skipped: number, server?: string): void;
  finish(score: SlideScore): void;
  retry(slide: string, attempt: number, error: string, delayMs: number): void;
  stop(): void;
}

export const REPORTERS: Record<ProgressMode, () => Reporter> = {
  json: jsonReporter,
  bar: barReporter,
  none: failuresOnlyReporter,
};

function retryText(slide: string, attempt: number, error: string, delayMs: number): string {
  return `${slideNameOf(slide)}: attempt ${attempt} failed (${error}); retrying in ${(delayMs / 1000).toFixed(1)} s\n`;
}

function failuresOnlyReporter(): Reporter {
  return {
    start: () => {},
    progress: () => {},
    finish: (s) => {
      if (!s.ok) process.stderr.write(`glomseg: ${slideNameOf(s.slide)}: ${s.error}\n`);
    },
    retry: (slide, attempt, error, delayMs) =>
      process.stderr.write(`glomseg: ${retryText(slide, attempt, error, delayMs)}`),
    stop: () => {},
  };
}

function jsonReporter(): Reporter {
  const line = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  return {
    start: (slide) => line({ event: 'start', slide }),
    progress: (slide, done, total, etaMs, skipped, server) =>
      line({
        event: 'progress',
        slide,
        server,
        tilesDone: done,
        tilesTotal: total,
        tilesSkipped: skipped,
        etaMs: Math.round(etaMs),
      }),
    finish: (s) => {
      line(
        s.ok
          ? {
              event: 'result',
              slide: s.slide,
              glomeruli: s.glomeruli,
              metrics: s.metrics,
              scale: s.scale,
              ...(s.warnings?.length ? { warnings: s.warnings } : {}),
              elapsedMs: Math.round(s.elapsedMs ?? 0),
            }
          : { event: 'error', slide: s.slide, error: s.error },
      );
      // A person reads stderr: failures are said there too, not only inside the machine-readable lines.
      if (!s.ok) process.stderr.write(`glomseg: ${slideNameOf(s.slide)}: ${s.error}\n`);
    },
    retry: (slide, attempt, error, delayMs) => line({ event: 'retry', slide, attempt, error, delayMs }),
    stop: () => {},
  };
}

/**
 * The server's estimate of the time left, as the bar shows it: a dash until a tile is done (before that there is
 * nothing to estimate from; cli-progress's own estimate printed "NFs"), then 45s, 3m05s, 1h20m.
 */
export function etaText(done: number, total: number, etaMs: number): string {
  if (total > 0 && done >= total) return '0s';
  if (done <= 0 || !Number.isFinite(etaMs) || etaMs < 0) return '–';
  const seconds = Math.round(etaMs / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function barReporter(): Reporter {
  const bars = new cliProgress.MultiBar(
    {
      format: '{slide} |{bar}| {value}/{total} tiles ({skipped} glass) | ETA {timeLeft}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      noTTYOutput: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const active = new Map<string, cliProgress.SingleBar>();
  return {
    start: (slide) =>
      active.set(
        slide,
        bars.create(1, 0, { slide: slideNameOf(slide), skipped: 0, timeLeft: etaText(0, 1, Number.NaN) }),
      ),
    progress: (slide, done, total, etaMs, skipped) => {
      const bar = active.get(slide);
      bar?.setTotal(Math.max(1, total));
      bar?.update(done, { slide: slideNameOf(slide), skipped, timeLeft: etaText(done, total, etaMs) });
    },
    finish: (s) => {
      if (!s.ok) bars.log(`glomseg: ${slideNameOf(s.slide)}: ${s.error}\n`);
    },
    retry: (slide, attempt, error, delayMs) => bars.log(retryText(slide, attempt, error, delayMs)),
    // Shows the cursor and turns line wrap back on (the bars hid and turned them off).
    stop: () => bars.stop(),
  };
}
