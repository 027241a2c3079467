/**
 * `glomseg merge SHARD_OUT... --out DIR`: pools the batch folders of several shards (a Kubernetes Indexed Job's
 * pods, or any runs of one cohort with the same settings) into one: per-slide files copied, the manifest united,
 * the batch exports (exports/: submission.csv, metrics.json, report.html) rebuilt from the slides, exactly as one run over all of them would write them.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import {
  BatchConflictError,
  MANIFEST_FILE,
  readManifest,
  resultFiles,
  writeSummaries,
  type Manifest,
  type ManifestEntry,
} from './batch-manifest.js';

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([readFile(a).catch(() => undefined), readFile(b).catch(() => undefined)]);
  return x !== undefined && y !== undefined && x.equals(y);
}

export async function runMerge(shards: string[], out: string): Promise<{ slides: number }> {
  const manifests: Array<{ folder: string; manifest: Manifest }> = [];
  for (const folder of shards) {
    const manifest = await readManifest(folder);
    if (!manifest)
      throw new BatchConflictError(`${folder} holds no ${MANIFEST_FILE}: not a glomseg score --out folder`);
    manifests.push({ folder, manifest });
  }
  if (manifests.length === 0) throw new BatchConflictError('nothing to merge');
  const settings = manifests[0].manifest.settings;
  for (const { folder, manifest } of manifests) {
    if (JSON.stringify(manifest.settings) !== JSON.stringify(settings)) {
      throw new BatchConflictError(
        `${folder} was scored with other settings than ${manifests[0].folder}: their results do not pool`,
      );
    }
  }
  await mkdir(out, { recursive: true });
  const merged: Record<string, ManifestEntry> = {};
  const from = new Map<string, string>();
  for (const { folder, manifest } of manifests) {
    for (const [slide, entry] of Object.entries(manifest.slides)) {
      const previous = merged[slide];
      if (entry.status !== 'done') {
        if (!previous) merged[slide] = entry;
        continue;
      }
      if (previous?.status === 'done') {
        // The same slide done twice: fine only if both runs wrote the same result.
        for (const file of resultFiles(entry.name)) {
          if (!(await sameBytes(path.join(folder, file), path.join(from.get(slide)!, file)))) {
            throw new BatchConflictError(
              `'${slide}' is done in both ${from.get(slide)} and ${folder} with different results`,
            );
          }
        }
        continue;
      }
      merged[slide] = entry;
      from.set(slide, folder);
    }
  }
  const names = new Map<string, string>();
  for (const [slide, entry] of Object.entries(merged)) {
    const other = names.get(entry.name);
    if (other !== undefined)
      throw new BatchConflictError(
        `'${slide}' and '${other}' both write ${resultFiles(entry.name)[0]}: they cannot share one folder`,
      );
    names.set(entry.name, slide);
  }
  for (const [slide, folder] of from) {
    if (path.resolve(folder) === path.resolve(out)) continue;
    for (const file of resultFiles(merged[slide].name)) {
      await writeFileAtomic(path.join(out, file), await readFile(path.join(folder, file)));
    }
  }
  const manifest: Manifest = { ...manifests[0].manifest, slides: merged };
  await writeFileAtomic(path.join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeSummaries(out, manifest);
  return { slides: from.size };
}
