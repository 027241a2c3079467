/**
 * Ground-truth import and result export. Reads QuPath GeoJSON (FeatureCollection, a bare array of Features as in
 * the HuBMAP per-slide files, a single Feature or geometry; Polygon and MultiPolygon, holes kept, other geometry
 * ignored), labelme JSON (`shapes[]`, polygon and rectangle) and HuBMAP RLE CSV (`id,encoding` or
 * `id,predicted`), each shape with the class its file gives it. Writes QuPath-compatible GeoJSON and RLE CSV.
 */
import { MAX_COORDINATE, type GlomerulusPolygon, type Polygon, type Ring } from './geometry.js';
import { GlomsegError } from './errors.js';
import { rleToPolygons } from './rle.js';
import type { TileGrid } from './tile-grid.js';

export type AnnotationFormat = 'auto' | 'geojson' | 'labelme' | 'rle-csv';

export interface ParseAnnotationsOptions {
  format?: AnnotationFormat;
  /** RLE CSV: the row id to use (a slide name; a file extension is ignored when matching). */
  name?: string;
  /** RLE CSV: the mask size in level-0 pixels. */
  width?: number;
  height?: number;
}

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

function invalid(message: string): GlomsegError {
  return new GlomsegError('INVALID_ARGUMENT', message);
}

/** The polygons of an annotation file, whatever their class (see `parseAnnotationShapes`). */
export function parseAnnotations(content: string, options: ParseAnnotationsOptions = {}): Polygon[] {
  return parseAnnotationShapes(content, options).map((shape) => shape.polygon);
}

export function parseAnnotationShapes(content: string, options: ParseAnnotationsOptions = {}): AnnotationShape[] {
  const text = content.replace(/^\uFEFF/, '').trim();
  if (text === '') throw invalid(content === '' ? 'the annotation file is empty (0 bytes)' : 'the annotation file is empty (only white space)');
  let format = options.format ?? 'auto';
  let json: unknown;
  if (format === 'auto' || format === 'geojson' || format === 'labelme') {
    if (text.startsWith('{') || text.startsWith('[')) {
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw invalid(`the annotations are not valid JSON: ${(error as Error).message}`);
      }
    } else if (format !== 'auto') {
      throw invalid(`the annotations should be ${format} JSON, but the text does not start with '{' or '['`);
    }
  }
  if (format === 'auto') format = detectFormat(text, json);
  switch (format) {
    case 'geojson':
      return parseGeoJson(json);
    case 'labelme':
      return parseLabelme(json);
    case 'rle-csv':
      return parseRleCsv(text, options);
    default:
      throw invalid(`unknown annotation format '${String(format)}' (expected geojson, labelme or rle-csv)`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function detectFormat(text: string, json: unknown): Exclude<AnnotationFormat, 'auto'> {
  if (json !== undefined) {
    if (isObject(json) && Array.isArray(json.shapes)) return 'labelme';
    if (Array.isArray(json) || (isObject(json) && typeof json.type === 'string')) return 'geojson';
    throw invalid('the JSON is neither GeoJSON (no "type") nor labelme (no "shapes" list)');
  }
  const header = text.split(/\r?\n/, 1)[0].toLowerCase().replace(/\s/g, '');
  if (/^"?id"?,/.test(header)) return 'rle-csv';
  throw invalid('cannot tell the annotation format: expected GeoJSON, labelme JSON or an RLE CSV with an "id,encoding" header');
}

// ---- GeoJSON ----

/** A GeoJSON feature's class as QuPath writes it: `classification: {name}` (`{names: [...]}` for derived classes) or a plain string. */
function geoJsonClass(properties: unknown): string | undefined {
  if (!isObject(properties)) return undefined;
  const classification = properties.classification;
  if (typeof classification === 'string') return classification.trim() || undefined;
  if (!isObject(classification)) return undefined;
  if (typeof classification.name === 'string' && classification.name.trim()) return classification.name.trim();
  const names = classification.names;
  if (Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string')) return names.join(': ');
  return undefined;
}

function parseGeoJson(json: unknown): AnnotationShape[] {
  const shapes: AnnotationShape[] = [];
  const features: unknown[] = Array.isArray(json)
    ? json
    : isObject(json) && json.type === 'FeatureCollection'
      ? Array.isArray(json.features)
        ? json.features
        : (() => { throw invalid('the GeoJSON FeatureCollection has no "features" list'); })()
      : [json];
  features.forEach((feature, index) => {
    const where = Array.isArray(json) || (isObject(json) && json.type === 'FeatureCollection') ? `feature ${index}` : 'the GeoJSON object';
    if (!isObject(feature)) throw invalid(`${where} is not a JSON object`);
    const polygons: Polygon[] = [];
    if (feature.type === 'Feature') {
      if (feature.geometry === null) return; // GeoJSON allows features without geometry
      addGeometry(feature.geometry, where, polygons);
    } else if (typeof feature.type === 'string') {
      addGeometry(feature, where, polygons);
    } else {
      throw invalid(`${where} has no GeoJSON "type"`);
    }
    const label = feature.type === 'Feature' ? geoJsonClass(feature.properties) : undefined;
    for (const polygon of polygons) shapes.push({ polygon, where, ...(label ? { label } : {}) });
  });
  return shapes;
}

function addGeometry(geometry: unknown, where: string, out: Polygon[]): void {
  if (!isObject(geometry) || typeof geometry.type !== 'string') throw invalid(`${where} has no valid geometry`);
  switch (geometry.type) {
    case 'Polygon':
      out.push(...toPolygon(geometry.coordinates, where));
      return;
    case 'MultiPolygon': {
      if (!Array.isArray(geometry.coordinates)) throw invalid(`${where}: MultiPolygon coordinates are not a list`);
      geometry.coordinates.forEach((coordinates, i) => out.push(...toPolygon(coordinates, `${where} polygon ${i}`)));
      return;
    }
    case 'GeometryCollection': {
      if (!Array.isArray(geometry.geometries)) throw invalid(`${where}: GeometryCollection has no "geometries" list`);
      geometry.geometries.forEach((g, i) => addGeometry(g, `${where} geometry ${i}`, out));
      return;
    }
    case 'Point':
    case 'MultiPoint':
    case 'LineString':
    case 'MultiLineString':
      return; // not an area: nothing to score
    default:
      throw invalid(`${where} has unknown geometry type '${geometry.type}'`);
  }
}

/** One GeoJSON polygon (rings of [x, y] positions); degenerate polygons (under 3 distinct points) are skipped. */
function toPolygon(coordinates: unknown, where: string): Polygon[] {
  if (!Array.isArray(coordinates) || coordinates.length === 0) throw invalid(`${where}: polygon coordinates are not a list of rings`);
  const rings = coordinates.map((ring, r) => toRing(ring, `${where} ring ${r}`));
  if (rings[0].length < 3) return [];
  return [{ exterior: rings[0], holes: rings.slice(1).filter((hole) => hole.length >= 3) }];
}

function toRing(points: unknown, where: string): Ring {
  if (!Array.isArray(points)) throw invalid(`${where} is not a list of points`);
  const ring: Ring = points.map((point, i) => {
    if (!Array.isArray(point) || point.length < 2 || !Number.isFinite(point[0]) || !Number.isFinite(point[1])) {
      throw invalid(`${where} point ${i} is not an [x, y] pair of numbers: ${JSON.stringify(point)?.slice(0, 60)}`);
    }
    // Slide coordinates are level-0 pixels: far beyond any slide is a wrong unit or a broken file, and past this
    // the areas and boxes computed from it lose their meaning.
    if (Math.abs(point[0]) > MAX_COORDINATE || Math.abs(point[1]) > MAX_COORDINATE) {
      throw invalid(`${where} point ${i} (${point[0]}, ${point[1]}) is beyond +-${MAX_COORDINATE} pixels; coordinates are level-0 slide pixels`);
    }
    return [point[0] as number, point[1] as number];
  });
  return openAndDedupe(ring);
}

/** Drops the repeated closing point and consecutive duplicates. */
function openAndDedupe(ring: Ring): Ring {
  const out: Ring = [];
  for (const point of ring) {
    const last = out[out.length - 1];
    if (!last || last[0] !== point[0] || last[1] !== point[1]) out.push(point);
  }
  while (out.length > 1 && out[0][0] === out[out.length - 1][0] && out[0][1] === out[out.length - 1][1]) out.pop();
  return out;
}

// ---- labelme ----

function parseLabelme(json: unknown): AnnotationShape[] {
  if (!isObject(json) || !Array.isArray(json.shapes)) throw invalid('the labelme JSON has no "shapes" list');
  const shapes: AnnotationShape[] = [];
  json.shapes.forEach((shape, index) => {
    const where = `labelme shape ${index}`;
    if (!isObject(shape)) throw invalid(`${where} is not a JSON object`);
    const label = typeof shape.label === 'string' && shape.label.trim() ? { label: shape.label.trim() } : {};
    const type = shape.shape_type ?? 'polygon';
    if (type !== 'polygon' && type !== 'rectangle') return; // points, lines, circles: not scored
    const points = toRing(shape.points, where);
    if (type === 'rectangle') {
      if (points.length !== 2) throw invalid(`${where} is a rectangle with ${points.length} points, expected 2 corners`);
      const [[xa, ya], [xb, yb]] = points;
      const [x0, x1] = [Math.min(xa, xb), Math.max(xa, xb)];
      const [y0, y1] = [Math.min(ya, yb), Math.max(ya, yb)];
      if (x1 > x0 && y1 > y0) shapes.push({ polygon: { exterior: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], holes: [] }, where, ...label });
      return;
    }
    if (points.length >= 3) shapes.push({ polygon: { exterior: points, holes: [] }, where, ...label });
  });
  return shapes;
}

// ---- RLE CSV ----

function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { cells.push(cell); cell = ''; }
    else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

function stripExtension(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.[^.]*$/, '');
}

function parseRleCsv(text: string, options: ParseAnnotationsOptions): AnnotationShape[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = parseCsvLine(lines[0]).map((h) => h.toLowerCase());
  const idColumn = header.indexOf('id');
  const rleColumn = header.findIndex((h) => h === 'encoding' || h === 'predicted');
  if (idColumn < 0 || rleColumn < 0) {
    throw invalid(`the RLE CSV header is "${lines[0].slice(0, 80)}"; expected columns "id" and "encoding" (or "predicted")`);
  }
  const rows = lines.slice(1).map((line, i) => {
    const cells = parseCsvLine(line);
    if (cells.length <= Math.max(idColumn, rleColumn)) throw invalid(`RLE CSV line ${i + 2} has ${cells.length} cells, expected ${header.length}`);
    return { id: cells[idColumn], rle: cells[rleColumn], line: i + 2 };
  });
  if (rows.length === 0) throw invalid('the RLE CSV has a header but no rows');
  let row: (typeof rows)[number] | undefined;
  if (options.name) {
    const wanted = stripExtension(options.name);
    row = rows.find((r) => r.id === options.name) ?? rows.find((r) => stripExtension(r.id) === wanted);
    if (!row && rows.length > 1) {
      const ids = rows.slice(0, 10).map((r) => r.id).join(', ');
      throw invalid(`the RLE CSV has no row with id "${wanted}" (ids: ${ids}${rows.length > 10 ? ', ...' : ''})`);
    }
  }
  if (!row) {
    if (rows.length > 1) throw invalid(`the RLE CSV has ${rows.length} rows; name the slide to pick one`);
    row = rows[0];
  }
  const { width, height } = options;
  if (width === undefined || height === undefined) throw invalid('RLE annotations need the slide width and height');
  try {
    const where = `RLE CSV line ${row.line}`;
    return rleToPolygons(row.rle, width, height).map(({ exterior, holes }) => ({ polygon: { exterior, holes }, where }));
  } catch (error) {
    if (error instanceof GlomsegError) throw invalid(`RLE CSV line ${row.line} (id "${row.id}"): ${error.message}`);
    throw error;
  }
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
  const hex = [0x811c9dc5, 0x01234567, 0x89abcdef, 0xdeadbeef].map((seed) => fnv1a(text, seed).toString(16).padStart(8, '0')).join('');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The measurement that states the pixel size behind "Area µm^2", by where it came from, when no one stated it. */
export const UNSTATED_MPP: Partial<Record<TileGrid['mppSource'], string>> = { 'model-default': 'Assumed µm/px', estimated: 'Estimated µm/px' };

/** Predicted polygons as QuPath GeoJSON: detections (by default) of class "Glomerulus (predicted)", with ids and units. */
export function toQuPathGeoJson(polygons: readonly GlomerulusPolygon[], options: QuPathExportOptions = {}): GeoJsonFeatureCollection {
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
