/**
 * The slide reader registry. Each reader registers itself from its own file (readers/, imported once by
 * readers/index.ts); opening a slide asks every reader how well it supports it and tries them best first, so a
 * file is read by what its bytes are, not only by its name. When none opens it, the failures of all that tried
 * come back as one error. The slide file endings the catalog and the CLI list are the readers' own.
 */
import { open } from 'node:fs/promises';
import { GlomsegError, isGlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { PROBE_BYTES, type ReaderContext, type SlideProbe, type SlideReader } from './slide-reader.js';

const readers: SlideReader[] = [];

export function registerSlideReader(reader: SlideReader): void {
  if (readers.some((other) => other.name === reader.name))
    throw new Error(`a slide reader named '${reader.name}' is already registered`);
  readers.push(reader);
}

export function slideReaders(): readonly SlideReader[] {
  return readers;
}

/** Every registered file ending, once, in registration order. */
export function slideExtensions(options: { byUrl?: boolean } = {}): string[] {
  const chosen = options.byUrl ? readers.filter((reader) => reader.byUrl) : readers;
  return [...new Set(chosen.flatMap((reader) => reader.extensions))];
}

export function isSlideFileName(fileName: string, options: { byUrl?: boolean } = {}): boolean {
  const lower = fileName.toLowerCase();
  return slideExtensions(options).some((extension) => lower.endsWith(extension));
}

/** A local file's probe: its name and first bytes (none when it cannot be read: the readers say why). */
export async function probeFile(filePath: string, fileName: string): Promise<SlideProbe> {
  const head = new Uint8Array(PROBE_BYTES);
  let length = 0;
  try {
    const handle = await open(filePath, 'r');
    try {
      length = (await handle.read(head, 0, PROBE_BYTES, 0)).bytesRead;
    } finally {
      await handle.close();
    }
  } catch {
    // Missing, a folder, unreadable: left to the reader chosen by name, whose error says which.
  }
  return { fileName, path: filePath, head: head.subarray(0, length) };
}

/** The readers that support the probe, best first (ties: registration order). */
export function rankReaders(probe: SlideProbe): SlideReader[] {
  return readers
    .map((reader, index) => ({
      reader,
      index,
      support: probe.url && !reader.byUrl ? undefined : reader.support(probe),
    }))
    .filter(
      (entry): entry is { reader: SlideReader; index: number; support: number } =>
        entry.support !== undefined && entry.support > 0,
    )
    .sort((a, b) => b.support - a.support || a.index - b.index)
    .map((entry) => entry.reader);
}

/** Opens the slide with the first reader, by support, that can; otherwise one error naming every failure. */
export async function openWithReaders(probe: SlideProbe, context: ReaderContext): Promise<SlideSource> {
  const label = probe.url?.label ?? probe.fileName;
  const candidates = rankReaders(probe);
  if (candidates.length === 0) {
    const endings = slideExtensions({ byUrl: Boolean(probe.url) }).join(' ');
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `${label}: no slide reader supports it${probe.url ? ' by URL' : ''} (slide files end in ${endings})`,
    );
  }
  const failures: Array<{ reader: string; error: unknown }> = [];
  for (const reader of candidates) {
    throwIfAborted(context.signal);
    try {
      return await reader.open(probe, context);
    } catch (error) {
      if (context.signal?.aborted) throw error;
      failures.push({ reader: reader.name, error });
    }
  }
  throw collectedFailure(label, failures);
}

/** One reader's error as it is; several: the first's code (the best-supported reader), every reader's words. */
function collectedFailure(label: string, failures: Array<{ reader: string; error: unknown }>): unknown {
  if (failures.length === 1) return failures[0].error;
  const first = failures[0].error;
  const words = failures.map(
    ({ reader, error }) => `${reader}: ${error instanceof Error ? error.message : String(error)}`,
  );
  return new GlomsegError(
    isGlomsegError(first) ? first.code : 'INVALID_ARGUMENT',
    `${label}: no slide reader could open it: ${words.join('; ')}`,
    {
      cause: first,
    },
  );
}
