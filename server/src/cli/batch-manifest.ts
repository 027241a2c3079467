/**
 * The state of a batch in its `--out` folder, so a batch can stop anywhere and resume:
 * - each finished slide has its per-slide exports (exports/: `<name>.geojson`) and `<name>.result.json` (what the
 *   batch exports need),
 *   both written atomically (a temporary file, then a rename) the moment the slide finishes;
 * - `manifest.json` says which slides are done, failed or pending, and with which scoring options;
 * - the batch exports (`submission.csv`, `metrics.json`, `report.html`) are rebuilt from every per-slide result in the folder, never
 *   from only the slides of the latest run.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { encodePolygonsRle } from '@glomseg/shared/rle.js';
import { poolDiceMetrics, type DiceMetrics } from '@glomseg/shared/dice.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type { ManifestEntry, SlideResult } from './batch-result.js';
import { batchExportWriters, slideExportWriters } from './exports/index.js';

export type { ManifestEntry, SlideResult, SlideStatus } from './batch-result.js';

export const MANIFEST_FILE = 'manifest.json';
const RESULT_SUFFIX = '.result.json';
const MANIFEST_VERSION = 1;

/** The options that change a slide's result: a folder holds results of one setting only. */
export interface BatchSettings {
  model: string | null;
  mpp: number | null;
  threshold: number | null;
  region: { x: number; y: number; width: number; height: number } | null;
  annotations: string | null;
  /** --truth-class as given; absent: the glomerulus names. */
  truthClasses?: string[] | null;
  /** null: the defaults (the card's stain normalisation; tiles of bare glass skipped). */
  stainNormalization?: string | null;
  includeBackground?: boolean | null;
  viewerGrid?: boolean | null;
  qupathObjects?: string | null;
}

export interface Manifest {
  version: number;
  settings: BatchSettings;
  /** Keyed by the slide as given on the command line (file path, slide id or URL). */
  slides: Record<string, ManifestEntry>;
}

/** A batch folder that holds results of other settings, or an unreadable manifest: the user decides. */
export class BatchConflictError extends Error {}

function sameSettings(a: BatchSettings, b: BatchSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeSettings(s: BatchSettings): string {
  return (
    Object.entries(s)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' ') || 'defaults'
  );
}

export async function readManifest(out: string): Promise<Manifest | undefined> {
  const text = await readFile(path.join(out, MANIFEST_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text);
  } catch {
    throw new BatchConflictError(`${path.join(out, MANIFEST_FILE)} is not valid JSON; remove it or use another --out`);
  }
  if (manifest?.version !== MANIFEST_VERSION || typeof manifest.slides !== 'object') {
    throw new BatchConflictError(
      `${path.join(out, MANIFEST_FILE)} is not a glomseg batch manifest (version ${MANIFEST_VERSION})`,
    );
  }
  return manifest;
}

export async function readResult(out: string, name: string): Promise<SlideResult | undefined> {
  const text = await readFile(path.join(out, `${name}${RESULT_SUFFIX}`), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as SlideResult);
}

export class BatchOutput {
  /** Manifest writes are queued so a fast slide never overwrites a newer manifest with an older one. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly out: string,
    private readonly manifest: Manifest,
  ) {}

  /**
   * Opens (or starts) the batch in `out`. Refuses a folder whose results were made with other settings, unless
   * `force`, which starts the folder's batch over (its old results are replaced as slides finish).
   */
  static async open(out: string, settings: BatchSettings, options: { force?: boolean } = {}): Promise<BatchOutput> {
    const existing = await readManifest(out);
    if (existing && !options.force && !sameSettings(existing.settings, settings)) {
      throw new BatchConflictError(
        `${out} holds a batch scored with other settings (${describeSettings(existing.settings)}; now ${describeSettings(settings)}): ` +
          'use another --out, or --force to score it again',
      );
    }
    if (existing && !sameSettings(existing.settings, settings)) {
      // --force with new settings starts over: the old results would contradict the new ones.
      for (const entry of Object.values(existing.slides)) {
        for (const file of resultFiles(entry.name)) await rm(path.join(out, file), { force: true });
      }
    }
    const manifest: Manifest =
      existing && sameSettings(existing.settings, settings)
        ? existing
        : { version: MANIFEST_VERSION, settings, slides: {} };
    return new BatchOutput(out, manifest);
  }

  /** Done slides whose result file is still there. */
  async isDone(slide: string): Promise<boolean> {
    const entry = this.manifest.slides[slide];
    return entry?.status === 'done' && (await readResult(this.out, entry.name)) !== undefined;
  }

  /** Registers this run's slides (pending unless done, or all pending with `redo`); refuses two slides that would write the same files. */
  async begin(slides: ReadonlyArray<{ slide: string; name: string }>, redo = false): Promise<void> {
    const owners = new Map(Object.entries(this.manifest.slides).map(([slide, e]) => [e.name, slide]));
    for (const { slide, name } of slides) {
      const owner = owners.get(name);
      if (owner !== undefined && owner !== slide) {
        throw new BatchConflictError(
          `'${slide}' and '${owner}' would both write ${resultFiles(name)[0]} in ${this.out}; rename one or score them into separate --out folders`,
        );
      }
      owners.set(name, slide);
      const entry = this.manifest.slides[slide];
      if (!redo && entry?.status === 'done' && (await this.isDone(slide))) continue;
      this.manifest.slides[slide] = { name, status: 'pending', attempts: entry?.attempts ?? 0 };
    }
    await this.saveManifest();
  }

  /** Counts a try at a slide as it starts, on disk before it runs: a run killed mid-try still counts it. */
  async recordAttempt(slide: string, name: string): Promise<void> {
    const entry = this.manifest.slides[slide];
    if (entry?.status === 'done') return;
    this.manifest.slides[slide] = { name, status: 'pending', attempts: (entry?.attempts ?? 0) + 1 };
    await this.saveManifest();
  }

  /** Writes a finished slide's files (atomically), then marks it done. A slide already done is never rewritten. */
  async recordDone(
    result: SlideResult,
    polygons: readonly GlomerulusPolygon[],
    objectType: 'detection' | 'annotation' = 'detection',
  ): Promise<void> {
    const entry = this.manifest.slides[result.slide];
    if (entry?.status === 'done') return;
    for (const writer of slideExportWriters()) {
      await writeFileAtomic(
        path.join(this.out, writer.fileName(result.name)),
        writer.write({ result, polygons, objectType }),
      );
    }
    await writeFileAtomic(path.join(this.out, `${result.name}${RESULT_SUFFIX}`), `${JSON.stringify(result)}\n`);
    this.manifest.slides[result.slide] = {
      name: result.name,
      status: 'done',
      attempts: Math.max(1, entry?.attempts ?? 0),
    };
    await this.saveManifest();
  }

  /** Marks a slide failed; its tries were counted by recordAttempt (none when it never reached a server). */
  async recordFailed(slide: string, name: string, error: string): Promise<void> {
    const entry = this.manifest.slides[slide];
    if (entry?.status === 'done') return;
    this.manifest.slides[slide] = { name, status: 'failed', attempts: entry?.attempts ?? 0, error };
    await this.saveManifest();
  }

  entries(): Readonly<Record<string, ManifestEntry>> {
    return this.manifest.slides;
  }

  settings(): BatchSettings {
    return this.manifest.settings;
  }

  /** Rewrites submission.csv and metrics.json from every slide of the folder's manifest. */
  async rebuild(): Promise<{ overall: DiceMetrics | undefined }> {
    return writeSummaries(this.out, this.manifest);
  }

  private saveManifest(): Promise<void> {
    const text = `${JSON.stringify(this.manifest, null, 2)}\n`;
    this.writing = this.writing.then(() => writeFileAtomic(path.join(this.out, MANIFEST_FILE), text));
    return this.writing;
  }
}

/** The RLE row of a slide's polygons over the whole slide. */
export function slideRle(polygons: readonly GlomerulusPolygon[], width: number, height: number): string {
  return encodePolygonsRle([...polygons], width, height);
}

/** The batch files (exports/: submission.csv, metrics.json, report.html) from the per-slide results of a manifest, slides in name order. */
export async function writeSummaries(out: string, manifest: Manifest): Promise<{ overall: DiceMetrics | undefined }> {
  const entries = Object.entries(manifest.slides).sort(([, a], [, b]) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const slides: Array<{ file: string; entry: ManifestEntry; result?: SlideResult }> = [];
  for (const [file, entry] of entries)
    slides.push({ file, entry, result: entry.status === 'done' ? await readResult(out, entry.name) : undefined });
  const pooled = slides.flatMap(({ result }) => (result?.metrics ? [result.metrics] : []));
  const overall = pooled.length > 0 ? poolDiceMetrics(pooled) : undefined;
  const summary = { slides, overall, settings: manifest.settings, polygons: (name: string) => readPolygons(out, name) };
  for (const writer of batchExportWriters())
    await writeFileAtomic(path.join(out, writer.fileName), await writer.write(summary));
  return { overall };
}

/** Files a finished slide owns in a batch folder. */
export function resultFiles(name: string): string[] {
  return [...slideExportWriters().map((writer) => writer.fileName(name)), `${name}${RESULT_SUFFIX}`];
}

/** A done slide's polygons, read back from the first per-slide export that can (the report covers every slide of the folder). */
async function readPolygons(out: string, name: string): Promise<GlomerulusPolygon[]> {
  const writer = slideExportWriters().find((w) => w.readBack);
  const text = writer
    ? await readFile(path.join(out, writer.fileName(name)), 'utf8').catch(() => undefined)
    : undefined;
  return text ? writer!.readBack!(text) : [];
}
