/**
 * The export writers of a batch folder (`score --out`, `merge --out`), each registered from its own file here
 * (imported by index.ts): per-slide writers write a finished slide's file the moment it is done (and `merge`
 * copies them); batch writers rebuild their one file from every slide of the folder. A new export is one file.
 */
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type { ManifestEntry, SlideResult } from '../batch-result.js';
import type { BatchSettings } from '../batch-manifest.js';

export interface FinishedSlide {
  result: SlideResult;
  polygons: readonly GlomerulusPolygon[];
  objectType: 'detection' | 'annotation';
}

export interface SlideExportWriter {
  /** The file a slide named `name` owns: '<name>.geojson'. */
  fileName(name: string): string;
  write(slide: FinishedSlide): string;
  /** The polygons back from the file, for batch writers that draw them (the report). */
  readBack?(text: string): GlomerulusPolygon[];
}

/** Every slide of a batch folder, in name order, with the result of each done one. */
export interface BatchSummary {
  slides: ReadonlyArray<{ file: string; entry: ManifestEntry; result?: SlideResult }>;
  /** Dice pooled over every scored slide that had ground truth. */
  overall: DiceMetrics | undefined;
  /** The options the folder was scored with (its ground truth, region and classes: the report redraws the matching). */
  settings: BatchSettings;
  /** A done slide's polygons, read back from its per-slide export. */
  polygons(name: string): Promise<GlomerulusPolygon[]>;
}

export interface BatchExportWriter {
  fileName: string;
  write(summary: BatchSummary): Promise<string> | string;
}

const slideWriters: SlideExportWriter[] = [];
const batchWriters: BatchExportWriter[] = [];

export function registerSlideExport(writer: SlideExportWriter): void {
  slideWriters.push(writer);
}

export function registerBatchExport(writer: BatchExportWriter): void {
  if (batchWriters.some((other) => other.fileName === writer.fileName))
    throw new Error(`a batch export writes ${writer.fileName} already`);
  batchWriters.push(writer);
}

export function slideExportWriters(): readonly SlideExportWriter[] {
  return slideWriters;
}

/** In registration order: the order the files are written in. */
export function batchExportWriters(): readonly BatchExportWriter[] {
  return batchWriters;
}
