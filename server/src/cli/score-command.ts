/** `glomseg score`: batch-scores slides through a glomseg gRPC server, writing GeoJSON, RLE CSV and metrics. */
import { readFile, readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import fg from 'fast-glob';
import { poolDiceMetrics, type DiceMetrics } from '@glomseg/shared/dice.js';
import { UNSTATED_MPP } from '@glomseg/shared/annotations.js';
import { isAnnotationFileName } from '@glomseg/shared/annotation-formats/index.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type { StainNormalizationChoice } from '@glomseg/shared/stain-normalization.js';
import { createContextValues } from '@connectrpc/connect';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import { scoreSlideRequestToProto } from '@glomseg/api/client/to-proto.js';
import type { ScoreResult } from '@glomseg/shared/glomseg-service.js';
import { scaleNote } from '@glomseg/shared/scale-estimate.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import { ANSWERING_PEER } from '../client/grpc-js-transport.js';
import type { GlomsegConnection } from '../client/grpc-client.js';
import { slideRle, type BatchOutput } from './batch-manifest.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './slide-retry.js';
import { isSlideUrl, slideNameOf } from './slide-names.js';
import { isSlideFileName } from '../slides/index.js';
import { comparePolygons } from './polygon-order.js';

export { slideNameOf } from './slide-names.js';

export interface ScoreOptions {
  annotations?: string;
  /** Ground-truth classes to count (unset: the glomerulus names). */
  truthClasses?: string[];
  model?: string;
  mpp?: number;
  threshold?: number;
  region?: { x: number; y: number; width: number; height: number };
  stainNormalization?: StainNormalizationChoice;
  includeBackground?: boolean;
  /** What to write while scoring (PROGRESS_MODES). */
  progress: ProgressMode;
  /** Slides scored at once (each on whichever server the channel picks). */
  parallel?: number;
  retry?: RetryPolicy;
  /** The --out folder's batch: each finished slide is written there at once. */
  batch?: BatchOutput;
  /** QuPath object type of the exported polygons (default detection). */
  qupathObjects?: 'detection' | 'annotation';
}

export interface SlideScore {
  slide: string;
  slideId: string;
  ok: boolean;
  error?: string;
  glomeruli?: number;
  metrics?: DiceMetrics;
  elapsedMs?: number;
  width?: number;
  height?: number;
  polygons?: GlomerulusPolygon[];
  /** Tries it took (retries after a server went away). */
  attempts?: number;
  /** The pixel size the slide was read at, where it came from, and (unless the file or --mpp gave it) what that means. */
  scale?: { mpp: number; source: string; confidence?: number; note?: string };
  /** What the server left out of, or repaired in, the ground truth. */
  warnings?: string[];
}

/** The signals that stop a running score in order (see runScore). */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

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

/** Expands globs and folders into slide file paths; arguments that are not files stay as slide ids. */
export async function expandSlideArguments(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    if (fg.isDynamicPattern(arg)) {
      const matches = await fg(arg, { onlyFiles: true, absolute: true });
      out.push(...matches.filter((m) => isSlideFileName(m)).sort());
      continue;
    }
    const info = await stat(arg).catch(() => undefined);
    if (info?.isDirectory()) {
      const matches = await fg('**/*', { cwd: arg, onlyFiles: true, absolute: true });
      out.push(...matches.filter((m) => isSlideFileName(m)).sort());
    } else {
      out.push(info && !isSlideUrl(arg) ? path.resolve(arg) : arg);
    }
  }
  return out;
}

/** The annotation file for a slide: the file given, or the one in a folder whose name starts with the slide's. */
async function findAnnotations(annotations: string | undefined, slide: string): Promise<string | undefined> {
  if (!annotations) return undefined;
  const info = await stat(annotations).catch(() => undefined);
  if (!info) throw new Error(`annotations ${annotations} do not exist`);
  if (info.isFile()) return annotations;
  const name = slideNameOf(slide);
  const candidates = (await readdir(annotations))
    .filter((f) => isAnnotationFileName(f))
    .filter((f) => slideNameOf(f) === name || f.startsWith(`${name}_`) || f.startsWith(`${name}.`) || f.startsWith(`${name}-`));
  candidates.sort((a, b) => a.length - b.length);
  return candidates[0] ? path.join(annotations, candidates[0]) : undefined;
}

/** Matches a slide argument (path or id) to an id the server lists. */
function matchSlideId(slide: string, ids: string[]): string | undefined {
  if (ids.includes(slide) || isSlideUrl(slide)) return slide;
  const base = path.basename(slide);
  const matches = ids.filter((id) => id === base || id.endsWith(`/${base}`));
  return matches.length === 1 ? matches[0] : undefined;
}

interface Reporter {
  start(slide: string): void;
  progress(slide: string, done: number, total: number, etaMs: number, skipped: number, server?: string): void;
  finish(score: SlideScore): void;
  retry(slide: string, attempt: number, error: string, delayMs: number): void;
  stop(): void;
}

const REPORTERS: Record<ProgressMode, () => Reporter> = { json: jsonReporter, bar: barReporter, none: failuresOnlyReporter };

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
    retry: (slide, attempt, error, delayMs) => process.stderr.write(`glomseg: ${retryText(slide, attempt, error, delayMs)}`),
    stop: () => {},
  };
}

function jsonReporter(): Reporter {
  const line = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  return {
    start: (slide) => line({ event: 'start', slide }),
    progress: (slide, done, total, etaMs, skipped, server) =>
      line({ event: 'progress', slide, server, tilesDone: done, tilesTotal: total, tilesSkipped: skipped, etaMs: Math.round(etaMs) }),
    finish: (s) => {
      line(
        s.ok
          ? { event: 'result', slide: s.slide, glomeruli: s.glomeruli, metrics: s.metrics, scale: s.scale, ...(s.warnings?.length ? { warnings: s.warnings } : {}), elapsedMs: Math.round(s.elapsedMs ?? 0) }
          : { event: 'error', slide: s.slide, error: s.error },
      );
      // A person reads stderr: failures are said there too, not only inside the machine-readable lines.
      if (!s.ok) process.stderr.write(`glomseg: ${slideNameOf(s.slide)}: ${s.error}\n`);
    },
    retry: (slide, attempt, error, delayMs) => line({ event: 'retry', slide, attempt, error, delayMs }),
    stop: () => {},
  };
}

function barReporter(): Reporter {
  const bars = new cliProgress.MultiBar(
    { format: '{slide} |{bar}| {value}/{total} tiles ({skipped} glass) | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, stream: process.stderr, noTTYOutput: true },
    cliProgress.Presets.shades_classic,
  );
  const active = new Map<string, cliProgress.SingleBar>();
  return {
    start: (slide) => active.set(slide, bars.create(1, 0, { slide: slideNameOf(slide), skipped: 0 })),
    progress: (slide, done, total, _etaMs, skipped) => {
      const bar = active.get(slide);
      bar?.setTotal(Math.max(1, total));
      bar?.update(done, { slide: slideNameOf(slide), skipped });
    },
    finish: (s) => {
      if (!s.ok) bars.log(`glomseg: ${slideNameOf(s.slide)}: ${s.error}\n`);
    },
    retry: (slide, attempt, error, delayMs) => bars.log(retryText(slide, attempt, error, delayMs)),
    // Shows the cursor and turns line wrap back on (the bars hid and turned them off).
    stop: () => bars.stop(),
  };
}

/** The ground truth's text; an empty file is refused by name here, not sent (a server refuses it too, without the path). */
async function readTruth(file: string): Promise<string> {
  const content = await readFile(file, 'utf8');
  if (content.trim() === '') {
    throw new GlomsegError('INVALID_ARGUMENT', `the annotations ${file} are empty (${content === '' ? '0 bytes' : 'only white space'}): give a file with the slide's ground truth, or leave out --annotations`);
  }
  return content;
}

async function scoreOne(client: GlomsegConnection, slide: string, slideId: string, options: ScoreOptions, reporter: Reporter, signal: AbortSignal): Promise<SlideScore> {
  const started = performance.now();
  signal.throwIfAborted(); // a retry after Ctrl-C starts nothing
  const annotationsPath = await findAnnotations(options.annotations, slide);
  const truth = annotationsPath ? await readTruth(annotationsPath) : undefined;
  const info = await client.api.getSlideInfo({ slideId }, { signal });
  const request = scoreSlideRequestToProto({
    slideId,
    modelId: options.model,
    mppOverride: options.mpp,
    threshold: options.threshold,
    region: options.region,
    annotations:
      annotationsPath && truth !== undefined
        ? { content: truth, format: 'auto', name: path.basename(annotationsPath), classes: options.truthClasses }
        : undefined,
    stainNormalization: options.stainNormalization,
    includeBackground: options.includeBackground,
  });
  reporter.start(slide);
  let result: ScoreResult | undefined;
  const peer: { address?: string } = {};
  const contextValues = createContextValues().set(ANSWERING_PEER, peer);
  for await (const event of scoreEventsFromProto(client.api.scoreSlide(request, { signal, contextValues }))) {
    if (event.kind === 'progress') {
      const p = event.progress;
      reporter.progress(slide, p.tilesDone, p.tilesTotal, p.etaMs, p.tilesSkipped, peer.address);
    } else result = event.result;
  }
  // scoreEventsFromProto ends with a result or throws (UNAVAILABLE, retried).
  const polygons = result!.polygons.sort(comparePolygons);
  return {
    slide,
    slideId,
    ok: true,
    glomeruli: polygons.length,
    metrics: result!.metrics,
    elapsedMs: performance.now() - started,
    width: info.width,
    height: info.height,
    polygons,
    scale: scaleOf(result!.grid),
    warnings: result!.warnings,
  };
}

function scaleOf(grid: TileGrid): SlideScore['scale'] {
  const note = scaleNote(grid);
  return {
    mpp: grid.mppAssumed,
    source: grid.mppSource,
    ...(grid.mppSource === 'estimated' ? { confidence: grid.mppConfidence ?? 0 } : {}),
    ...(note ? { note } : {}),
  };
}

/** The table's scale cell: um/px, and how it was known when the file did not say. */
function scaleCell(scale: SlideScore['scale']): string {
  if (!scale) return '-';
  const how = scale.source === 'estimated' ? ` estimated (${Math.round((scale.confidence ?? 0) * 100)}%)` : scale.source === 'model-default' ? ' ASSUMED' : '';
  return `${scale.mpp.toFixed(2)}${how}`;
}

/** `wroteFiles`: the slides' GeoJSON files were written (--out), whose areas a note must qualify. */
function formatTable(scores: SlideScore[], overall: DiceMetrics | undefined, wroteFiles = false): string {
  const rows = [['slide', 'glomeruli', 'um/px', 'global Dice', 'mean tile Dice', 'F1', 'time (s)', 'status']];
  const metricsRow = (m: DiceMetrics | undefined) => [m ? m.globalDice.toFixed(4) : '-', m ? m.meanTileDice.toFixed(4) : '-', m ? m.f1.toFixed(4) : '-'];
  for (const s of scores) {
    rows.push([
      slideNameOf(s.slide),
      s.ok ? String(s.glomeruli) : '-',
      s.ok ? scaleCell(s.scale) : '-',
      ...metricsRow(s.metrics),
      s.elapsedMs !== undefined ? (s.elapsedMs / 1000).toFixed(1) : '-',
      s.ok ? (s.scale?.note || s.warnings?.length ? 'ok, see note' : 'ok') : `FAILED: ${s.error}`,
    ]);
  }
  const scored = scores.filter((s) => s.metrics);
  if (scored.length > 1) {
    const glomeruli = scored.reduce((total, s) => total + (s.glomeruli ?? 0), 0);
    rows.push([`all ${scored.length} scored`, String(glomeruli), '', ...metricsRow(overall), '', 'pooled']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
  const notes = scores.filter((s) => s.ok && s.scale?.note).map((s) => `note: ${slideNameOf(s.slide)}: ${s.scale!.note}`);
  for (const s of wroteFiles ? scores : []) {
    // The same scale sources toQuPathGeoJson marks on each object.
    const measurement = s.ok && s.scale ? UNSTATED_MPP[s.scale.source as keyof typeof UNSTATED_MPP] : undefined;
    const name = slideNameOf(s.slide);
    if (measurement) notes.push(`note: ${name}: "Area µm^2" in ${name}.geojson (and the report's sizes) assumes ${s.scale!.mpp.toFixed(2)} µm/px, which no one stated; each object carries it as "${measurement}"`);
  }
  for (const s of scores) for (const warning of (s.ok && s.warnings) || []) notes.push(`warning: ${slideNameOf(s.slide)}: ground truth: ${warning}`);
  return [table, ...notes].join('\n');
}

/** The slides with annotations scored as one set (pooled pixel and object counts); undefined when none has any. */
function overallMetrics(scores: SlideScore[]): DiceMetrics | undefined {
  const all = scores.flatMap((s) => (s.metrics ? [s.metrics] : []));
  return all.length > 0 ? poolDiceMetrics(all) : undefined;
}

/**
 * Scores every slide, `parallel` at a time (one failing does not stop the others; a server that goes away costs a
 * retry, not the slide), writes each finished slide into the batch at once, then rebuilds the batch summaries.
 */
export async function runScore(
  client: GlomsegConnection,
  slides: string[],
  options: ScoreOptions,
): Promise<{ ok: boolean; interrupted?: NodeJS.Signals; scores: SlideScore[] }> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const reporter = REPORTERS[options.progress]();
  const listed = slides.every(isSlideUrl)
    ? []
    : (await withRetry(policy, () => client.api.listSlides({}), () => {})).value.slides.map((s) => s.id);
  const scores: SlideScore[] = new Array(slides.length);
  let finished = 0;
  // Ctrl-C, SIGTERM (a Job's pod stopped; npm's shell gone, launcher-watch.ts) or SIGHUP: give the terminal back as it
  // was (cursor, line wrap), say what happened, cancel what is in flight and let the server close in order (ending the
  // process inside a model run would abort it), then exit 128 + the signal as shells expect. A second Ctrl-C does not
  // wait; any other signal after the first (a launcher passing one on) changes nothing.
  const interrupt = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onStop = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      if (signal === 'SIGINT' && stoppedBy === 'SIGINT') process.exit(130);
      return;
    }
    stoppedBy = signal;
    reporter.stop();
    const kept = options.batch ? `; the ${finished} finished are kept in ${options.batch.out} and a rerun resumes` : '; nothing was written';
    const how = signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : `stopped (${signal})`;
    process.stderr.write(`\nglomseg: ${how} after ${finished} of ${slides.length} slides${kept}\n`);
    interrupt.abort(new Error(how));
  };
  const stopListeners = STOP_SIGNALS.map((signal) => [signal, () => onStop(signal)] as const);
  for (const [signal, listener] of stopListeners) process.on(signal, listener);
  const scoreSlide = async (slide: string): Promise<SlideScore> => {
    const slideId = matchSlideId(slide, listed);
    if (!slideId) {
      const why = path.isAbsolute(slide) && !existsSync(slide) ? `no such file: ${slide}` : `the server has no slide '${path.basename(slide)}' (it serves: ${listed.join(', ') || 'none'})`;
      return { slide, slideId: '', ok: false, error: why, attempts: 0 };
    }
    try {
      const tryOnce = async () => {
        await options.batch?.recordAttempt(slide, slideNameOf(slide));
        return scoreOne(client, slide, slideId, options, reporter, interrupt.signal);
      };
      const { value, attempts } = await withRetry(policy, tryOnce, (error, attempt, delayMs) =>
        reporter.retry(slide, attempt, describeCallError(error), delayMs),
      );
      return { ...value, attempts };
    } catch (error) {
      return { slide, slideId, ok: false, error: describeCallError(error), attempts: (error as { attempts?: number }).attempts ?? 1 };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < slides.length && !interrupt.signal.aborted) {
      const index = next++;
      const score = await scoreSlide(slides[index]);
      // A slide cut short by Ctrl-C is neither done nor failed: it stays pending for the rerun.
      if (interrupt.signal.aborted) return;
      if (options.batch) await record(options.batch, score, options.qupathObjects);
      reporter.finish(score);
      scores[index] = score;
      finished++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel ?? 1, slides.length)) }, worker));
  for (const [signal, listener] of stopListeners) process.off(signal, listener);
  reporter.stop();
  await options.batch?.rebuild();
  if (stoppedBy) return { ok: false, interrupted: stoppedBy, scores: scores.filter(Boolean) };
  const table = formatTable(scores, overallMetrics(scores), options.batch !== undefined);
  (options.progress === 'json' ? process.stderr : process.stdout).write(`${table}\n`);
  return { ok: scores.every((s) => s.ok), scores };
}

async function record(batch: BatchOutput, s: SlideScore, objectType: 'detection' | 'annotation' = 'detection'): Promise<void> {
  const name = slideNameOf(s.slide);
  if (!s.ok || !s.polygons) return batch.recordFailed(s.slide, name, s.error ?? 'failed');
  await batch.recordDone(
    {
      slide: s.slide,
      name,
      slideId: s.slideId,
      width: s.width!,
      height: s.height!,
      glomeruli: s.glomeruli!,
      metrics: s.metrics,
      elapsedMs: s.elapsedMs ?? 0,
      rle: slideRle(s.polygons, s.width!, s.height!),
      scale: s.scale,
    },
    s.polygons,
    objectType,
  );
}
