/** `glomseg score`: batch-scores slides through a glomseg gRPC server, writing GeoJSON, RLE CSV and metrics. */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import fg from 'fast-glob';
import { toQuPathGeoJson, toRleCsv } from '@glomseg/shared/annotations.js';
import { encodePolygonsRle } from '@glomseg/shared/rle.js';
import { poolDiceMetrics, type DiceMetrics } from '@glomseg/shared/dice.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { diceMetricsFromProto, polygonFromProto } from './client-mapping.js';
import { GlomsegClient, describeGrpcError } from './grpc-client.js';
import { htmlReport } from './html-report.js';

export interface ScoreOptions {
  annotations?: string;
  out?: string;
  model?: string;
  mpp?: number;
  threshold?: number;
  region?: { x: number; y: number; width: number; height: number };
  json: boolean;
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
  /** The pixel size the slide was read at, where it came from, and (unless the file or --mpp gave it) what that means. */
  scale?: { mpp: number; source: string; confidence?: number; note?: string };
}

const SLIDE_EXTENSIONS = ['.tif', '.tiff', '.svs', '.btf', '.png', '.jpg', '.jpeg'];

/** Expands globs and folders into slide file paths; arguments that are not files stay as slide ids. */
export async function expandSlideArguments(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    if (fg.isDynamicPattern(arg)) {
      const matches = await fg(arg, { onlyFiles: true, absolute: true });
      out.push(...matches.filter((m) => SLIDE_EXTENSIONS.some((e) => m.toLowerCase().endsWith(e))).sort());
      continue;
    }
    const info = await stat(arg).catch(() => undefined);
    if (info?.isDirectory()) {
      const matches = await fg('**/*', { cwd: arg, onlyFiles: true, absolute: true });
      out.push(...matches.filter((m) => SLIDE_EXTENSIONS.some((e) => m.toLowerCase().endsWith(e))).sort());
    } else {
      out.push(info ? path.resolve(arg) : arg);
    }
  }
  return out;
}

export function slideNameOf(slide: string): string {
  const base = path.basename(slide);
  return base.replace(/\.ome\.tiff?$/i, '').replace(/\.[^.]+$/, '');
}

/** The annotation file for a slide: the file given, or the one in a folder whose name starts with the slide's. */
async function findAnnotations(annotations: string | undefined, slide: string): Promise<string | undefined> {
  if (!annotations) return undefined;
  const info = await stat(annotations).catch(() => undefined);
  if (!info) throw new Error(`annotations ${annotations} do not exist`);
  if (info.isFile()) return annotations;
  const name = slideNameOf(slide);
  const candidates = (await readdir(annotations))
    .filter((f) => /\.(geojson|json|csv)$/i.test(f))
    .filter((f) => slideNameOf(f) === name || f.startsWith(`${name}_`) || f.startsWith(`${name}.`) || f.startsWith(`${name}-`));
  candidates.sort((a, b) => a.length - b.length);
  return candidates[0] ? path.join(annotations, candidates[0]) : undefined;
}

/** Matches a slide argument (path or id) to an id the server lists. */
function matchSlideId(slide: string, ids: string[]): string | undefined {
  if (ids.includes(slide)) return slide;
  const base = path.basename(slide);
  const matches = ids.filter((id) => id === base || id.endsWith(`/${base}`));
  return matches.length === 1 ? matches[0] : undefined;
}

interface Reporter {
  start(slide: string): void;
  progress(slide: string, done: number, total: number, etaMs: number): void;
  finish(score: SlideScore): void;
  stop(): void;
}

function createReporter(json: boolean): Reporter {
  if (json || !process.stderr.isTTY) {
    const line = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
    return {
      start: (slide) => line({ event: 'start', slide }),
      progress: (slide, done, total, etaMs) => line({ event: 'progress', slide, tilesDone: done, tilesTotal: total, etaMs: Math.round(etaMs) }),
      finish: (s) => {
        line(s.ok ? { event: 'result', slide: s.slide, glomeruli: s.glomeruli, metrics: s.metrics, scale: s.scale, elapsedMs: Math.round(s.elapsedMs ?? 0) } : { event: 'error', slide: s.slide, error: s.error });
        // A person reads stderr: failures are said there too, not only inside the machine-readable lines.
        if (!s.ok) process.stderr.write(`glomseg: ${slideNameOf(s.slide)}: ${s.error}\n`);
      },
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    { format: '{slide} |{bar}| {value}/{total} tiles | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  const active = new Map<string, cliProgress.SingleBar>();
  return {
    start: (slide) => active.set(slide, bars.create(1, 0, { slide: slideNameOf(slide) })),
    progress: (slide, done, total) => {
      const bar = active.get(slide);
      bar?.setTotal(Math.max(1, total));
      bar?.update(done, { slide: slideNameOf(slide) });
    },
    finish: (s) => {
      if (!s.ok) bars.log(`glomseg: ${slideNameOf(s.slide)}: ${s.error}\n`);
    },
    // Shows the cursor and turns line wrap back on (the bars hid and turned them off).
    stop: () => bars.stop(),
  };
}

async function scoreOne(client: GlomsegClient, slide: string, slideId: string, options: ScoreOptions, reporter: Reporter): Promise<SlideScore> {
  const started = performance.now();
  const annotationsPath = await findAnnotations(options.annotations, slide);
  const info = await client.unary('GetSlideInfo', { slideId });
  const request = {
    slideId,
    modelId: options.model ?? '',
    mppOverride: options.mpp ?? 0,
    threshold: options.threshold ?? 0,
    region: options.region ?? null,
    annotations: annotationsPath
      ? { content: await readFile(annotationsPath, 'utf8'), format: 'ANNOTATION_FORMAT_AUTO', name: path.basename(annotationsPath) }
      : null,
  };
  reporter.start(slide);
  let result: any;
  for await (const event of client.stream('ScoreSlide', request)) {
    if (event.progress) reporter.progress(slide, event.progress.tilesDone, event.progress.tilesTotal, event.progress.etaMs);
    if (event.result) result = event.result;
  }
  if (!result) throw new Error('the server ended the stream without a result');
  const polygons = (result.polygons ?? []).map(polygonFromProto);
  return {
    slide,
    slideId,
    ok: true,
    glomeruli: polygons.length,
    metrics: result.hasMetrics ? diceMetricsFromProto(result.metrics) : undefined,
    elapsedMs: performance.now() - started,
    width: info.width,
    height: info.height,
    polygons,
    scale: scaleOf(result.grid),
  };
}

function scaleOf(grid: any): SlideScore['scale'] {
  if (!grid) return undefined;
  const source = String(grid.mppSource ?? '');
  return {
    mpp: Number(grid.mppAssumed ?? 0),
    source,
    ...(source === 'estimated' ? { confidence: Number(grid.mppConfidence ?? 0) } : {}),
    ...(grid.scaleNote ? { note: String(grid.scaleNote) } : {}),
  };
}

/** The table's scale cell: um/px, and how it was known when the file did not say. */
function scaleCell(scale: SlideScore['scale']): string {
  if (!scale) return '-';
  const how = scale.source === 'estimated' ? ` estimated (${Math.round((scale.confidence ?? 0) * 100)}%)` : scale.source === 'model-default' ? ' ASSUMED' : '';
  return `${scale.mpp.toFixed(2)}${how}`;
}

function formatTable(scores: SlideScore[], overall: DiceMetrics | undefined): string {
  const rows = [['slide', 'glomeruli', 'um/px', 'global Dice', 'mean tile Dice', 'F1', 'time (s)', 'status']];
  const metricsRow = (m: DiceMetrics | undefined) => [m ? m.globalDice.toFixed(4) : '-', m ? m.meanTileDice.toFixed(4) : '-', m ? m.f1.toFixed(4) : '-'];
  for (const s of scores) {
    rows.push([
      slideNameOf(s.slide),
      s.ok ? String(s.glomeruli) : '-',
      s.ok ? scaleCell(s.scale) : '-',
      ...metricsRow(s.metrics),
      s.elapsedMs !== undefined ? (s.elapsedMs / 1000).toFixed(1) : '-',
      s.ok ? (s.scale?.note ? 'ok, see note' : 'ok') : `FAILED: ${s.error}`,
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
  return [table, ...notes].join('\n');
}

/** The slides with annotations scored as one set (pooled pixel and object counts); undefined when none has any. */
function overallMetrics(scores: SlideScore[]): DiceMetrics | undefined {
  const all = scores.flatMap((s) => (s.metrics ? [s.metrics] : []));
  return all.length > 0 ? poolDiceMetrics(all) : undefined;
}

/** Scores every slide (one failing does not stop the others) and writes the outputs. True when all succeeded. */
export async function runScore(client: GlomsegClient, slides: string[], options: ScoreOptions): Promise<{ ok: boolean; scores: SlideScore[] }> {
  const listed = (await client.unary('ListSlides', {})).slides.map((s: { id: string }) => s.id) as string[];
  const reporter = createReporter(options.json);
  const scores: SlideScore[] = [];
  // Ctrl-C: give the terminal back as it was (cursor, line wrap), say what happened, exit 130 as shells expect.
  const onInterrupt = () => {
    reporter.stop();
    process.stderr.write(`\nglomseg: interrupted (Ctrl-C) after ${scores.length} of ${slides.length} slides; nothing was written\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  for (const slide of slides) {
    const slideId = matchSlideId(slide, listed);
    let score: SlideScore;
    if (!slideId) {
      const why = path.isAbsolute(slide) && !existsSync(slide) ? `no such file: ${slide}` : `the server has no slide '${path.basename(slide)}' (it serves: ${listed.join(', ') || 'none'})`;
      score = { slide, slideId: '', ok: false, error: why };
    } else {
      try {
        score = await scoreOne(client, slide, slideId, options, reporter);
      } catch (error) {
        score = { slide, slideId, ok: false, error: describeGrpcError(error) };
      }
    }
    reporter.finish(score);
    scores.push(score);
  }
  process.off('SIGINT', onInterrupt);
  reporter.stop();
  const overall = overallMetrics(scores);
  if (options.out) await writeOutputs(options.out, scores, overall, options.qupathObjects);
  const table = formatTable(scores, overall);
  (options.json ? process.stderr : process.stdout).write(`${table}\n`);
  return { ok: scores.every((s) => s.ok), scores };
}

async function writeOutputs(out: string, scores: SlideScore[], overall: DiceMetrics | undefined, qupathObjects: 'detection' | 'annotation' = 'detection'): Promise<void> {
  await mkdir(out, { recursive: true });
  const rows: Array<{ id: string; rle: string }> = [];
  for (const s of scores) {
    if (!s.ok || !s.polygons) continue;
    const name = slideNameOf(s.slide);
    const geojson = toQuPathGeoJson(s.polygons, { mpp: s.scale?.mpp, idScope: name, objectType: qupathObjects });
    await writeFile(path.join(out, `${name}.geojson`), `${JSON.stringify(geojson)}\n`);
    rows.push({ id: name, rle: encodePolygonsRle(s.polygons, s.width!, s.height!) });
  }
  await writeFile(path.join(out, 'submission.csv'), toRleCsv(rows));
  const metrics = {
    overall,
    slides: scores.map((s) => ({
      slide: slideNameOf(s.slide),
      file: s.slide,
      ok: s.ok,
      error: s.error,
      glomeruli: s.glomeruli,
      scale: s.scale,
      elapsedMs: s.elapsedMs !== undefined ? Math.round(s.elapsedMs) : undefined,
      metrics: s.metrics,
    })),
  };
  await writeFile(path.join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  const report = await htmlReport(scores.map((s) => ({ ...s, name: slideNameOf(s.slide), file: s.slide })), overall);
  await writeFile(path.join(out, 'report.html'), report);
}
