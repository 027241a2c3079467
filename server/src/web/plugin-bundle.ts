/** Makes sure plugin/dist/glomseg-plugin.js exists and is newer than every source it is built from. */
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { throwIfAborted } from '@glomseg/shared/errors.js';
import { REPO_ROOT } from '../repo-paths.mjs';

const BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts/build-plugin.mjs');

interface BuildScript {
  buildPlugin(options?: { minify?: boolean; outfile?: string }): Promise<string>;
  pluginBundle: string;
  pluginSourceFolders: string[];
}

async function newestModification(folder: string): Promise<number> {
  let newest = 0;
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const info = await stat(path.join(entry.parentPath, entry.name));
    newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}

let building: Promise<string> | undefined;

/** Builds the bundle when it is missing or older than its sources; returns its path. Concurrent callers share one build. */
export async function ensurePluginBundle(signal?: AbortSignal): Promise<string> {
  throwIfAborted(signal);
  const script = (await import(pathToFileURL(BUILD_SCRIPT).href)) as BuildScript;
  const bundleTime = await stat(script.pluginBundle).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const sourceTimes = await Promise.all(script.pluginSourceFolders.map(newestModification));
  const buildTime = await stat(BUILD_SCRIPT).then((s) => s.mtimeMs);
  if (bundleTime > Math.max(buildTime, ...sourceTimes)) return script.pluginBundle;
  building ??= buildAtomically(script).finally(() => {
    building = undefined;
  });
  return building;
}

/**
 * Builds into a folder of this process's own, then renames each file into place: several servers (or test files)
 * starting on one checkout may build at once, and none may serve a bundle another is halfway through writing.
 */
async function buildAtomically(script: BuildScript): Promise<string> {
  const target = path.dirname(script.pluginBundle);
  await mkdir(target, { recursive: true });
  const scratch = await mkdtemp(path.join(target, '.build-'));
  try {
    await script.buildPlugin({ outfile: path.join(scratch, path.basename(script.pluginBundle)) });
    for (const file of await readdir(scratch)) await rename(path.join(scratch, file), path.join(target, file));
    return script.pluginBundle;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
