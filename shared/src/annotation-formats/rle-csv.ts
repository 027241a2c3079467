/** HuBMAP RLE CSV (`id,encoding` or `id,predicted`): one slide's row decoded to the polygons of its mask. */
import { GlomsegError } from '../errors.js';
import { rleToPolygons } from '../rle.js';
import {
  invalidAnnotations,
  registerAnnotationFormat,
  type AnnotationReadOptions,
  type AnnotationShape,
} from './registry.js';

declare module './registry.js' {
  interface AnnotationFormats {
    'rle-csv': true;
  }
}

function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

function stripExtension(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.[^.]*$/, '');
}

function parseRleCsv(text: string, options: AnnotationReadOptions): AnnotationShape[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = parseCsvLine(lines[0]).map((h) => h.toLowerCase());
  const idColumn = header.indexOf('id');
  const rleColumn = header.findIndex((h) => h === 'encoding' || h === 'predicted');
  if (idColumn < 0 || rleColumn < 0) {
    throw invalidAnnotations(
      `the RLE CSV header is "${lines[0].slice(0, 80)}"; expected columns "id" and "encoding" (or "predicted")`,
    );
  }
  const rows = lines.slice(1).map((line, i) => {
    const cells = parseCsvLine(line);
    if (cells.length <= Math.max(idColumn, rleColumn))
      throw invalidAnnotations(`RLE CSV line ${i + 2} has ${cells.length} cells, expected ${header.length}`);
    return { id: cells[idColumn], rle: cells[rleColumn], line: i + 2 };
  });
  if (rows.length === 0) throw invalidAnnotations('the RLE CSV has a header but no rows');
  let row: (typeof rows)[number] | undefined;
  if (options.name) {
    const wanted = stripExtension(options.name);
    row = rows.find((r) => r.id === options.name) ?? rows.find((r) => stripExtension(r.id) === wanted);
    if (!row && rows.length > 1) {
      const ids = rows
        .slice(0, 10)
        .map((r) => r.id)
        .join(', ');
      throw invalidAnnotations(
        `the RLE CSV has no row with id "${wanted}" (ids: ${ids}${rows.length > 10 ? ', ...' : ''})`,
      );
    }
  }
  if (!row) {
    if (rows.length > 1) throw invalidAnnotations(`the RLE CSV has ${rows.length} rows; name the slide to pick one`);
    row = rows[0];
  }
  const { width, height } = options;
  if (width === undefined || height === undefined)
    throw invalidAnnotations('RLE annotations need the slide width and height');
  try {
    const where = `RLE CSV line ${row.line}`;
    return rleToPolygons(row.rle, width, height).map(({ exterior, holes }) => ({
      polygon: { exterior, holes },
      where,
    }));
  } catch (error) {
    if (error instanceof GlomsegError)
      throw invalidAnnotations(`RLE CSV line ${row.line} (id "${row.id}"): ${error.message}`);
    throw error;
  }
}

registerAnnotationFormat({
  name: 'rle-csv',
  description: 'an RLE CSV with an "id,encoding" header',
  json: false,
  extensions: ['.csv'],
  nameDecides: true,
  detect: (text) => (/^"?id"?,/.test(text.split(/\r?\n/, 1)[0].toLowerCase().replace(/\s/g, '')) ? 1 : 0),
  parse: (text, _json, options) => parseRleCsv(text, options),
});
