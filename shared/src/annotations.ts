/**
 * Ground-truth import and result export. Reads every registered annotation format (annotation-formats/: QuPath
 * GeoJSON, labelme JSON, HuBMAP RLE CSV), each shape with the class its file gives it, the format named or detected.
 * Writes QuPath-compatible GeoJSON and RLE CSV.
 */
import type { GlomerulusPolygon, Polygon, Ring } from './geometry.js';
import type { TileGrid } from './tile-grid.js';
import {
  annotationFormatChoices,
  detectAnnotationFormat,
  findAnnotationFormat,
  invalidAnnotations,
  orList,
  type AnnotationFormat,
  type AnnotationReadOptions,
  type AnnotationShape,
} from './annotation-formats/index.js';

export type { AnnotationFormat, AnnotationShape } from './annotation-formats/index.js';

export interface ParseAnnotationsOptions extends AnnotationReadOptions {
  format?: AnnotationFormat;
}

/** The polygons of an annotation file, whatever their class (see `parseAnnotationShapes`). */
export function parseAnnotations(content: string, options: ParseAnnotationsOptions = {}): Polygon[] {
  return parseAnnotationShapes(content, options).map((shape) => shape.polygon);
}

export function parseAnnotationShapes(content: string, options: ParseAnnotationsOptions = {}): AnnotationShape[] {
  const text = content.replace(/^\uFEFF/, '').trim();
  if (text === '')
    throw invalidAnnotations(
      content === '' ? 'the annotation file is empty (0 bytes)' : 'the annotation file is empty (only white space)',
    );
  const format = options.format ?? 'auto';
  const named = format === 'auto' ? undefined : findAnnotationFormat(format);
  if (format !== 'auto' && !named) {
    throw invalidAnnotations(
      `unknown annotation format '${String(format)}' (expected ${orList(annotationFormatChoices().slice(1))})`,
    );
  }
  let json: unknown;
  if (!named || named.json) {
    if (text.startsWith('{') || text.startsWith('[')) {
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw invalidAnnotations(`the annotations are not valid JSON: ${(error as Error).message}`);
      }
    } else if (named) {
      throw invalidAnnotations(`the annotations should be ${format} JSON, but the text does not start with '{' or '['`);
    }
  }
  const reader = named ?? detectAnnotationFormat(text, json);
  return reader.parse(text, json, options);
}

// ---- export ----

/** How predictions are classed in QuPath: apart from the manual "Glomerulus" ground truth, green [0, 200, 0]. */
export const PREDICTED_CLASS = { name: 'Glomerulus (predicted)', color: [0, 229, 255] as [number, number, number] };

export interface QuPathExportOptions {
  /** QuPath object type: 'detection' (default: a model's output, not editable as a drawing) or 'annotation'. */
  objectType?: 'detection' | 'annotation';
  /** Classification name and colour; default PREDICTED_CLASS. */
  className?: string;
  color?: [number, number, number];
  /** Level-0 um/px, so areas are written in um^2 as QuPath names them; without it, in px^2. */
  mpp?: number;
  /**
   * Where `mpp` came from (TileGrid.mppSource). When neither the slide file nor the user stated it, each object also
   * carries the pixel size its area rests on (UNSTATED_MPP), so an area from an assumed scale is not taken for a measured one.
   */
  mppSource?: TileGrid['mppSource'];
  /** Mixed into each object's id (e.g. the slide name), so the same glomerulus of two slides gets two ids. */
  idScope?: string;
}

export interface GeoJsonFeatureCollection {
  type: 'FeatureCollection';
  features: Array<{
    type: 'Feature';
    /** A UUID, stable for the same polygon in the same scope: a re-import replaces, rather than doubles, objects. */
    id: string;
    geometry: { type: 'Polygon'; coordinates: Array<Array<[number, number]>> };
    properties: {
      objectType: 'annotation' | 'detection';
      classification: { name: string; color: [number, number, number] };
      /**
       * Named as QuPath names them, units included: "Area µm^2" (or "Area px^2"), "Mean probability"; and "Assumed µm/px"
       * or "Estimated µm/px" when the area rests on a pixel size no one stated.
       */
      measurements: Record<string, number>;
    };
  }>;
}

function closeRing(ring: Ring): Array<[number, number]> {
  return ring.length > 0 ? [...ring.map(([x, y]) => [x, y] as [number, number]), [ring[0][0], ring[0][1]]] : [];
}

/** FNV-1a over a string, from a seed: 32 bits. */
function fnv1a(text: string, seed: number): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** A name-based UUID (version 8 layout, RFC 9562): the same text always gives the same id. */
export function stableUuid(text: string): string {
  const hex = [0x811c9dc5, 0x01234567, 0x89abcdef, 0xdeadbeef]
    .map((seed) => fnv1a(text, seed).toString(16).padStart(8, '0'))
    .join('');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The measurement that states the pixel size behind "Area µm^2", by where it came from, when no one stated it. */
export const UNSTATED_MPP: Partial<Record<TileGrid['mppSource'], string>> = {
  'model-default': 'Assumed µm/px',
  estimated: 'Estimated µm/px',
};

/** Predicted polygons as QuPath GeoJSON: detections (by default) of class "Glomerulus (predicted)", with ids and units. */
export function toQuPathGeoJson(
  polygons: readonly GlomerulusPolygon[],
  options: QuPathExportOptions = {},
): GeoJsonFeatureCollection {
  const name = options.className ?? PREDICTED_CLASS.name;
  const color = options.color ?? PREDICTED_CLASS.color;
  const mpp = options.mpp && options.mpp > 0 ? options.mpp : undefined;
  const unstated = mpp && options.mppSource ? UNSTATED_MPP[options.mppSource] : undefined;
  return {
    type: 'FeatureCollection',
    features: polygons.map((polygon) => {
      const coordinates = [closeRing(polygon.exterior), ...polygon.holes.map(closeRing)];
      return {
        type: 'Feature' as const,
        id: stableUuid(`${options.idScope ?? ''}|${JSON.stringify(coordinates)}`),
        geometry: { type: 'Polygon' as const, coordinates },
        properties: {
          objectType: options.objectType ?? 'detection',
          classification: { name, color: [color[0], color[1], color[2]] as [number, number, number] },
          measurements: {
            ...(mpp ? { 'Area µm^2': polygon.area * mpp * mpp } : { 'Area px^2': polygon.area }),
            ...(unstated ? { [unstated]: mpp } : {}),
            'Mean probability': polygon.meanProbability,
          },
        },
      };
    }),
  };
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Kaggle-style submission text: "id,predicted" then one row per image. */
export function toRleCsv(rows: ReadonlyArray<{ id: string; rle: string }>): string {
  return ['id,predicted', ...rows.map((row) => `${csvCell(row.id)},${row.rle}`)].join('\n') + '\n';
}
