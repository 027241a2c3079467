/** `glomseg score`: batch-scores slides through a glomseg gRPC server, writing GeoJSON, RLE CSV and metrics. */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { StainNormalizationChoice } from '@glomseg/shared/stain-normalization.js';
import { createContextValues } from '@connectrpc/connect';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import { scoreSlideRequestToProto } from '@glomseg/api/client/to-proto.js';
import type { ScoreResult } from '@glomseg/shared/glomseg-service.js';
import { ANSWERING_PEER } from '../client/grpc-js-transport.js';
import type { GlomsegConnection } from '../client/grpc-client.js';
import { slideRle, type BatchOutput } from './batch-manifest.js';
import { findAnnotations } from './truth-files.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './slide-retry.js';
import { isSlideUrl, slideNameOf } from './slide-names.js';
import { isSlideFileName } from '../slides/index.js';
import { comparePolygons } from './polygon-order.js';
import { scaleOf, type SlideScore } from './slide-score.js';
import { REPORTERS, type ProgressMode, type Reporter } from './score-progress.js';
import { formatTable, overallMetrics } from './score-table.js';
import { stoppedMessage, watchStopSignals } from './stop-signals.js';

export { slideNameOf } from './slide-names.js';
export type { SlideScore } from './slide-score.js';

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
  /** Score on the viewer's tile grid (ScoreSlideParams.viewerGrid). */
  viewerGrid?: boolean;
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

/** Matches a slide argument (path or id) to an id the server lists. */
function matchSlideId(slide: string, ids: string[]): string | undefined {
  if (ids.includes(slide) || isSlideUrl(slide)) return slide;
  const base = path.basename(slide);
  const matches = ids.filter((id) => id === base || id.endsWith(`/${base}`));
  return matches.length === 1 ? matches[0] : undefined;
}

/** The ground truth's text; an empty file is refused by name here, not sent (a server refuses it too, without the path). */
async function readTruth(file: string): Promise<string> {
  const content = await readFile(file, 'utf8');
  if (content.trim() === '') {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `the annotations ${file} are empty (${content === '' ? '0 bytes' : 'only white space'}): give a file with the slide's ground truth, or leave out --annotations`,
    );
  }
  return content;
}

async function scoreOne(
  client: GlomsegConnection,
  slide: string,
  slideId: string,
  options: ScoreOptions,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<SlideScore> {
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
    viewerGrid: options.viewerGrid,
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
    tissueArea: result!.tissueArea,
  };
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
    : (
        await withRetry(
          policy,
          () => client.api.listSlides({}),
          () => {},
        )
      ).value.slides.map((s) => s.id);
  const scores: SlideScore[] = new Array(slides.length);
  let finished = 0;
  // A stop signal gives the terminal back as it was (cursor, line wrap) and says what happened (stop-signals.ts).
  const interrupt = watchStopSignals((how) => {
    reporter.stop();
    process.stderr.write(stoppedMessage(how, finished, slides.length, options.batch?.out));
  });
  const scoreSlide = async (slide: string): Promise<SlideScore> => {
    const slideId = matchSlideId(slide, listed);
    if (!slideId) {
      const why =
        path.isAbsolute(slide) && !existsSync(slide)
          ? `no such file: ${slide}`
          : `the server has no slide '${path.basename(slide)}' (it serves: ${listed.join(', ') || 'none'})`;
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
      return {
        slide,
        slideId,
        ok: false,
        error: describeCallError(error),
        attempts: (error as { attempts?: number }).attempts ?? 1,
      };
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
  interrupt.close();
  reporter.stop();
  await options.batch?.rebuild();
  const stoppedBy = interrupt.stoppedBy();
  if (stoppedBy) return { ok: false, interrupted: stoppedBy, scores: scores.filter(Boolean) };
  const table = formatTable(scores, overallMetrics(scores), options.batch !== undefined);
  (options.progress === 'json' ? process.stderr : process.stdout).write(`${table}\n`);
  return { ok: scores.every((s) => s.ok), scores };
}

async function record(
  batch: BatchOutput,
  s: SlideScore,
  objectType: 'detection' | 'annotation' = 'detection',
): Promise<void> {
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
      tissueArea: s.tissueArea,
    },
    s.polygons,
    objectType,
  );
}
