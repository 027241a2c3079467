/**
 * The port every slide reader fills (QuPath's ImageServerBuilder): it says how well it supports a slide from its
 * name and first bytes, and opens it as a SlideSource (the contract in shared/src/slide-source.ts). Readers
 * register themselves with slide-readers.ts from their own files in readers/, so a new format is one file.
 */
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { DEFAULT_LIMITS, type ServingLimits } from '../validation/limits.js';

/** What a reader may look at before it opens anything. */
export interface SlideProbe {
  /** The file name (for a URL, the last segment of its path), as given. */
  fileName: string;
  /** The local file, or undefined for a slide by URL. */
  path?: string;
  /** A slide by URL: how to name it in messages, and its address (an s3:// URL is presigned when asked). */
  url?: { label: string; href: () => Promise<string> };
  /** The first bytes of a local file (up to PROBE_BYTES); empty for a URL, which is not fetched to choose. */
  head: Uint8Array;
}

/** Bytes of a local file read for the probe: enough for every reader's magic numbers. */
export const PROBE_BYTES = 64;

/** The configured bounds a reader enforces while it reads (validation/limits.ts). */
export type ReaderLimits = Pick<ServingLimits, 'maxStoredBlocksPerRead' | 'maxDecodedTileBytes'>;

export const DEFAULT_READER_LIMITS: ReaderLimits = {
  maxStoredBlocksPerRead: DEFAULT_LIMITS.maxStoredBlocksPerRead,
  maxDecodedTileBytes: DEFAULT_LIMITS.maxDecodedTileBytes,
};

export interface ReaderContext {
  /** The slide id the source reports as its metadata.id. */
  id: string;
  limits: ReaderLimits;
  signal?: AbortSignal;
}

export interface SlideReader {
  /** Short and unique: messages name the reader that failed ('geotiff', 'openslide'). */
  readonly name: string;
  /** Lower-case file name endings it opens, with the dot: the catalog lists files with any reader's endings. */
  readonly extensions: readonly string[];
  /** Whether it reads slides by URL (range requests) besides local files. */
  readonly byUrl?: boolean;
  /**
   * How well it supports this slide, from the name and first bytes only (no I/O): higher is tried first, about 1
   * for a file whose magic number it knows, less for a matching extension alone; undefined: not at all.
   */
  support(probe: SlideProbe): number | undefined;
  open(probe: SlideProbe, context: ReaderContext): Promise<SlideSource>;
}

/** Whether the probe's file name ends with one of the endings (case-insensitive). */
export function hasExtension(probe: SlideProbe, extensions: readonly string[]): boolean {
  const name = probe.fileName.toLowerCase();
  return extensions.some((extension) => name.endsWith(extension));
}

/** Whether the bytes start with these (a magic number). */
export function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((byte, i) => head[i] === byte);
}
