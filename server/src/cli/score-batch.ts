/**
 * What a `glomseg score` run has to do before any server is involved: the shard's share of the slides, and, with
 * `--out`, which of them an earlier run already finished (skipped unless --force).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BatchConflictError, BatchOutput, type BatchSettings } from './batch-manifest.js';
import { inShard, type Shard } from './shard.js';
import { slideNameOf } from './slide-names.js';

export interface BatchPlan {
  /** Slides to score now. */
  todo: string[];
  /** Slides of this shard already done in --out. */
  skipped: string[];
  /** Slides given that belong to other shards. */
  otherShards: number;
  batch?: BatchOutput;
}

export interface PlanOptions {
  out?: string;
  force: boolean;
  resume: boolean;
  shard?: Shard;
  settings: BatchSettings;
}

export async function planBatch(slides: string[], options: PlanOptions): Promise<BatchPlan> {
  const mine = slides.filter((slide) => inShard(slideNameOf(slide), options.shard));
  const names = new Map<string, string>();
  for (const slide of mine) {
    const name = slideNameOf(slide);
    const other = names.get(name);
    if (other !== undefined && other !== slide)
      throw new BatchConflictError(
        `'${other}' and '${slide}' have the same name '${name}': their outputs would overwrite each other`,
      );
    names.set(name, slide);
  }
  const unique = [...names.values()];
  if (!options.out) return { todo: unique, skipped: [], otherShards: slides.length - mine.length };
  await mkdir(options.out, { recursive: true });
  const batch = await BatchOutput.open(options.out, options.settings, { force: options.force });
  const skipped: string[] = [];
  const todo: string[] = [];
  for (const slide of unique)
    (options.resume && !options.force && (await batch.isDone(slide)) ? skipped : todo).push(slide);
  // --force and --no-resume score done slides again: they go back to pending, so their new results are written.
  if (todo.length > 0)
    await batch.begin(
      unique.map((slide) => ({ slide, name: slideNameOf(slide) })),
      options.force || !options.resume,
    );
  return { todo, skipped, otherShards: slides.length - mine.length, batch };
}

/** The settings that make a result: stored in the manifest so a resumed batch never mixes two of them. */
export function batchSettingsOf(options: {
  model?: string;
  mpp?: number;
  threshold?: number;
  region?: BatchSettings['region'];
  annotations?: string;
  truthClass?: string[];
  stainNormalization?: string;
  includeBackground?: boolean;
  viewerGrid?: boolean;
  qupathObjects?: string;
}): BatchSettings {
  return {
    model: options.model ?? null,
    mpp: options.mpp ?? null,
    threshold: options.threshold ?? null,
    region: options.region ?? null,
    annotations: options.annotations ? path.resolve(options.annotations) : null,
    // Left out when at their defaults, so a folder scored before these options existed still resumes.
    ...(options.truthClass?.length ? { truthClasses: options.truthClass } : {}),
    ...(options.stainNormalization && options.stainNormalization !== 'auto'
      ? { stainNormalization: options.stainNormalization }
      : {}),
    ...(options.includeBackground ? { includeBackground: true } : {}),
    ...(options.viewerGrid ? { viewerGrid: true } : {}),
    ...(options.qupathObjects && options.qupathObjects !== 'detection' ? { qupathObjects: options.qupathObjects } : {}),
  };
}
