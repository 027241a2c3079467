/**
 * Model versions on disk, beside the shipped cards: each adapted version is a folder `versions/<id>/` holding its
 * card (card.json), ONNX file and PyTorch checkpoint, and `registry.json` names the default model. A version is
 * written in a hidden staging folder and appears by one rename, so a process killed mid-way leaves no half model
 * (stale staging folders are swept at the next start). The default is written atomically (write-file-atomic).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';

export const VERSIONS_FOLDER = 'versions';
export const VERSION_CARD = 'card.json';
export const STATE_FILE = 'registry.json';
const STAGING_PREFIX = '.staging-';

/** What an adapted version's card says of its origin (card `provenance.adaptation`). */
export interface AdaptationRecord {
  /** The model it was fine-tuned from. */
  parent: string;
  /** The shipped model its line of versions started from (version ids count up within it). */
  family: string;
  version: number;
  [key: string]: unknown;
}

export function adaptationOf(card: ModelCard): AdaptationRecord | undefined {
  const record = (card.provenance as { adaptation?: AdaptationRecord } | undefined)?.adaptation;
  return record && typeof record.family === 'string' && typeof record.version === 'number' ? record : undefined;
}

/** The family a card belongs to: its adaptation's, or its own id for a shipped model. */
export function familyOf(card: ModelCard): string {
  return adaptationOf(card)?.family ?? card.id;
}

/** The next version id of a family: `<family>-v<n>`, n one above the highest kept (the shipped model is v1). */
export function nextVersion(cards: readonly ModelCard[], family: string): { id: string; version: number } {
  let highest = 1;
  for (const card of cards) {
    const record = adaptationOf(card);
    if (record?.family === family) highest = Math.max(highest, record.version);
  }
  return { id: `${family}-v${highest + 1}`, version: highest + 1 };
}

/** Card files of the kept versions, in name order. */
export async function versionCardPaths(root: string): Promise<string[]> {
  const folder = path.join(root, VERSIONS_FOLDER);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  return names
    .filter((name) => !name.startsWith('.'))
    .sort()
    .map((name) => path.join(folder, name, VERSION_CARD));
}

/**
 * Removes staging folders a killed process left: they were never visible as models. A folder is named after the
 * process writing it, so one that another live server (sharing the folder) is writing is left alone.
 */
export async function sweepStaging(root: string): Promise<string[]> {
  const folder = path.join(root, VERSIONS_FOLDER);
  const names = await readdir(folder).catch(() => [] as string[]);
  const stale = names.filter((name) => name.startsWith(STAGING_PREFIX) && !writerAlive(name));
  for (const name of stale) await rm(path.join(folder, name), { recursive: true, force: true });
  return stale;
}

function writerAlive(name: string): boolean {
  const pid = Number(name.slice(STAGING_PREFIX.length).split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A new, empty staging folder for one version (hidden from the registry until published). */
export async function createStaging(root: string): Promise<string> {
  const folder = path.join(root, VERSIONS_FOLDER, `${STAGING_PREFIX}${process.pid}-${randomUUID()}`);
  await mkdir(folder, { recursive: true });
  return folder;
}

/** Makes a staged version visible as `versions/<id>`, in one rename; refuses to replace a kept version. */
export async function publishStaging(root: string, staging: string, id: string): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id))
    throw new GlomsegError('INVALID_ARGUMENT', `'${id}' is not a usable model id`);
  const target = path.join(root, VERSIONS_FOLDER, id);
  try {
    await rename(staging, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST')
      throw new GlomsegError('FAILED_PRECONDITION', `a model version '${id}' is already kept in ${target}`);
    throw error;
  }
  return target;
}

/** The default model the operator chose last (`registry.json`), if any. */
export async function readDefaultChoice(root: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(root, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as { default?: unknown };
    return typeof state.default === 'string' ? state.default : undefined;
  } catch (error) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `${path.join(root, STATE_FILE)}: not a readable JSON file: ${(error as Error).message}`,
    );
  }
}

export async function writeDefaultChoice(root: string, id: string): Promise<void> {
  const state = { default: id, chosen: new Date().toISOString() };
  await writeFileAtomic(path.join(root, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { fsync: true });
}
