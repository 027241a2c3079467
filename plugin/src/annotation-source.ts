/**
 * Reads ground-truth annotations from a File, a URL or text, as the server's scoring reads them (the shared
 * readGroundTruth: the glomerulus classes, shapes off the slide left out, self-crossing outlines repaired), so the
 * viewer's Dice counts the same truth as `glomseg score`.
 */
import type { AnnotationFormat } from '@glomseg/shared/annotations.js';
import { annotationFormatForFileName } from '@glomseg/shared/annotation-formats/index.js';
import { readGroundTruth } from '@glomseg/shared/ground-truth.js';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { Polygon } from '@glomseg/shared/geometry.js';

export interface LoadedAnnotations {
  name: string;
  polygons: Polygon[];
  /** What was left out or repaired, in words for the user (empty when nothing was). */
  warnings: string[];
  /** Milliseconds spent reading and parsing. */
  loadMs: number;
}

export interface AnnotationLoadOptions {
  format?: AnnotationFormat;
  /** File name (for messages and for picking the row of an RLE CSV). */
  name?: string;
  /** Slide size in level-0 pixels, needed by RLE CSV. */
  width?: number;
  height?: number;
  /** Classes counted as glomeruli; unset: the glomerulus names, as `glomseg score` without --truth-class. */
  classes?: readonly string[];
  signal?: AbortSignal;
}

export function parseAnnotationText(content: string, options: AnnotationLoadOptions = {}): LoadedAnnotations {
  const started = performance.now();
  const name = options.name ?? 'annotations';
  const { polygons, warnings } = readGroundTruth(content, {
    format: options.format ?? annotationFormatForFileName(options.name),
    name,
    width: options.width,
    height: options.height,
    classes: options.classes,
  });
  return { name, polygons, warnings, loadMs: performance.now() - started };
}

export async function readAnnotationFile(file: Blob, options: AnnotationLoadOptions = {}): Promise<LoadedAnnotations> {
  const started = performance.now();
  const name = options.name ?? (file instanceof File ? file.name : 'annotations');
  const content = await file.text();
  throwIfAborted(options.signal);
  const loaded = parseAnnotationText(content, { ...options, name });
  return { ...loaded, loadMs: performance.now() - started };
}

export async function fetchAnnotations(url: string, options: AnnotationLoadOptions = {}): Promise<LoadedAnnotations> {
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal });
  } catch (error) {
    throwIfAborted(options.signal);
    throw new GlomsegError('UNAVAILABLE', `annotations at ${url} cannot be fetched: ${(error as Error).message}`);
  }
  if (!response.ok)
    throw new GlomsegError('NOT_FOUND', `annotations at ${url}: HTTP ${response.status} ${response.statusText}`);
  const content = await response.text();
  throwIfAborted(options.signal);
  const disposition = /filename="?([^";]+)"?/i.exec(response.headers.get('content-disposition') ?? '')?.[1];
  const name =
    options.name ??
    disposition ??
    decodeURIComponent(new URL(url, location.href).pathname.split('/').pop() || 'annotations');
  const loaded = parseAnnotationText(content, { ...options, name });
  return { ...loaded, loadMs: performance.now() - started };
}

/**
 * Annotations that do not lie on the slide (wholly or partly outside it, one pixel of slack): the sign of a file
 * made for another slide, or in other units. Undefined when all lie on it.
 */
export function annotationsOffSlide(
  polygons: readonly Polygon[],
  width: number,
  height: number,
): { outside: number; total: number } | undefined {
  if (!(width > 0 && height > 0)) return undefined;
  let outside = 0;
  for (const polygon of polygons) {
    if (polygon.exterior.some(([x, y]) => x < -1 || y < -1 || x > width + 1 || y > height + 1)) outside++;
  }
  return outside > 0 ? { outside, total: polygons.length } : undefined;
}
