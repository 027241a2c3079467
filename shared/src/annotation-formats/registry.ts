/**
 * The annotation format registry: each ground-truth format registers a reader from its own file (this folder,
 * imported by index.ts) with how to detect it and how to parse it. The format type, `auto`'s detection, the file
 * endings looked for in an annotations folder and the CLI/viewer choices all come from here; the wire enum maps
 * each name in one table (api/src/wire-enums.ts), which a test keeps equal to this registry.
 */
import { GlomsegError } from '../errors.js';
import type { Polygon } from '../geometry.js';

/**
 * The names of the registered formats: each format file adds its own by declaration merging
 * (`declare module './registry.js' { interface AnnotationFormats { geojson: true } }`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging, one key per format file
export interface AnnotationFormats {}

/** A format's name, or `auto`: detect it from the content. */
export type AnnotationFormat = 'auto' | keyof AnnotationFormats;

/** One shape of an annotation file: its polygon, the class the file gives it, and where it is, for messages. */
export interface AnnotationShape {
  polygon: Polygon;
  /**
   * QuPath's `classification.name` (derived classes joined with ": ", as QuPath shows them) or labelme's `label`;
   * unset for unclassified shapes and RLE masks.
   */
  label?: string;
  /** "feature 3", "labelme shape 0", "RLE CSV line 2". */
  where: string;
}

/** What a reader may need beside the text: the slide's name (a row of a multi-slide file) and size (masks). */
export interface AnnotationReadOptions {
  /** RLE CSV: the row id to use (a slide name; a file extension is ignored when matching). */
  name?: string;
  /** RLE CSV: the mask size in level-0 pixels. */
  width?: number;
  height?: number;
}

export interface AnnotationFormatReader {
  name: keyof AnnotationFormats;
  /** How `auto`'s error lists it: 'GeoJSON', 'labelme JSON', 'an RLE CSV with an "id,encoding" header'. */
  description: string;
  /** For JSON formats: what the JSON lacked when it is not this format, 'GeoJSON (no "type")'. */
  lacks?: string;
  /** The text is JSON: parsed once, and given to detect and parse. */
  json: boolean;
  /** File endings looked for in an annotations folder and offered by the viewer's file picker. */
  extensions: readonly string[];
  /** A file with one of `extensions` is this format, undetected (a CSV has no signature to tell it by). */
  nameDecides?: boolean;
  /** How surely the content is this format: 0 not at all; the highest wins, ties by registration order. */
  detect(text: string, json: unknown): number;
  parse(text: string, json: unknown, options: AnnotationReadOptions): AnnotationShape[];
}

const readers: AnnotationFormatReader[] = [];

export function registerAnnotationFormat(reader: AnnotationFormatReader): void {
  if (reader.name === ('auto' as string)) throw new Error("'auto' is the detection choice, not a format name");
  if (readers.some((other) => other.name === reader.name))
    throw new Error(`an annotation format named '${reader.name}' is already registered`);
  readers.push(reader);
}

/** Every registered format, in registration order. */
export function annotationFormats(): readonly AnnotationFormatReader[] {
  return readers;
}

export function findAnnotationFormat(name: string): AnnotationFormatReader | undefined {
  return readers.find((reader) => reader.name === name);
}

/** 'auto', then every registered format's name: the choices a user may give. */
export function annotationFormatChoices(): AnnotationFormat[] {
  return ['auto', ...readers.map((reader) => reader.name)];
}

/** Every registered file ending, once: ['.geojson', '.json', '.csv']. */
export function annotationExtensions(): string[] {
  return [...new Set(readers.flatMap((reader) => reader.extensions))];
}

export function isAnnotationFileName(fileName: string): boolean {
  const lower = fileName.toLowerCase();
  return annotationExtensions().some((extension) => lower.endsWith(extension));
}

/** The format a file's name alone decides (an RLE CSV by `.csv`), else 'auto'. */
export function annotationFormatForFileName(fileName: string | undefined): AnnotationFormat {
  const lower = fileName?.toLowerCase();
  const reader = lower
    ? readers.find((r) => r.nameDecides && r.extensions.some((extension) => lower.endsWith(extension)))
    : undefined;
  return reader?.name ?? 'auto';
}

/** The format of a text, from its content; `json` is the parsed text when it looked like JSON. */
export function detectAnnotationFormat(text: string, json: unknown): AnnotationFormatReader {
  const isJson = json !== undefined;
  const ranked = readers
    .filter((reader) => reader.json === isJson)
    .map((reader, index) => ({ reader, index, support: reader.detect(text, json) }))
    .filter((entry) => entry.support > 0)
    .sort((a, b) => b.support - a.support || a.index - b.index);
  if (ranked[0]) return ranked[0].reader;
  if (isJson) {
    const lacks = readers.filter((reader) => reader.json).map((reader) => reader.lacks ?? reader.description);
    throw invalidAnnotations(`the JSON is neither ${lacks.join(' nor ')}`);
  }
  throw invalidAnnotations(
    `cannot tell the annotation format: expected ${orList(readers.map((reader) => reader.description))}`,
  );
}

export function invalidAnnotations(message: string): GlomsegError {
  return new GlomsegError('INVALID_ARGUMENT', message);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 'a', 'a or b', 'a, b or c'. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
