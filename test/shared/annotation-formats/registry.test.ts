/**
 * The annotation format registry: the built-in formats, and a format registered from this file alone (as a new
 * shared/src/annotation-formats/<name>.ts would) detected by `auto`, chosen by its file name and listed.
 */
import { describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { parseAnnotationShapes, type AnnotationFormat } from '@glomseg/shared/annotations.js';
import {
  annotationExtensions,
  annotationFormatChoices,
  annotationFormatForFileName,
  annotationFormats,
  isAnnotationFileName,
  registerAnnotationFormat,
} from '@glomseg/shared/annotation-formats/index.js';
import { readGroundTruth } from '@glomseg/shared/ground-truth.js';

const SQUARE = 'GLOM 1\nsquare 10 10 50\n';

describe('annotation formats, built in', () => {
  it('are GeoJSON, labelme and RLE CSV, with their endings', () => {
    expect(annotationFormats().map((f) => f.name)).toEqual(['geojson', 'labelme', 'rle-csv']);
    expect(annotationFormatChoices()).toEqual(['auto', 'geojson', 'labelme', 'rle-csv']);
    expect(annotationExtensions()).toEqual(['.geojson', '.json', '.csv']);
    expect(annotationFormatForFileName('truth.CSV')).toBe('rle-csv');
    expect(annotationFormatForFileName('truth.json')).toBe('auto');
    expect(annotationFormatForFileName(undefined)).toBe('auto');
    expect(isAnnotationFileName('a.geojson') && isAnnotationFileName('a.json') && !isAnnotationFileName('a.txt')).toBe(
      true,
    );
  });

  it('an unknown format name is INVALID_ARGUMENT naming the registered ones', () => {
    expect(() => parseAnnotationShapes('{}', { format: 'shapefile' as AnnotationFormat })).toThrow(GlomsegError);
    expect(() => parseAnnotationShapes('{}', { format: 'shapefile' as AnnotationFormat })).toThrow(
      /unknown annotation format 'shapefile' \(expected geojson, labelme or rle-csv\)/,
    );
  });
});

describe('a format registered from one file', () => {
  it('is detected by auto, chosen by its file name, listed, and read as ground truth', () => {
    expect(() => parseAnnotationShapes(SQUARE)).toThrow(
      /cannot tell the annotation format: expected GeoJSON, labelme JSON or an RLE CSV/,
    );
    registerAnnotationFormat({
      // A name outside the built-in type, as a format file would add it to AnnotationFormats.
      name: 'glom-squares' as never,
      description: 'a GLOM squares file',
      json: false,
      extensions: ['.glom'],
      nameDecides: true,
      detect: (text) => (text.startsWith('GLOM ') ? 1 : 0),
      parse: (text) =>
        text
          .split('\n')
          .slice(1)
          .filter((line) => line.startsWith('square '))
          .map((line, i) => {
            const [x, y, size] = line.split(' ').slice(1).map(Number);
            return {
              polygon: {
                exterior: [
                  [x, y],
                  [x + size, y],
                  [x + size, y + size],
                  [x, y + size],
                ],
                holes: [],
              },
              where: `square ${i}`,
              label: 'Glomerulus',
            };
          }),
    });
    expect(annotationFormatChoices()).toContain('glom-squares');
    expect(isAnnotationFileName('slide-1.glom')).toBe(true);
    expect(annotationFormatForFileName('slide-1.glom')).toBe('glom-squares');
    const shapes = parseAnnotationShapes(SQUARE);
    expect(shapes).toEqual([
      {
        polygon: {
          exterior: [
            [10, 10],
            [60, 10],
            [60, 60],
            [10, 60],
          ],
          holes: [],
        },
        where: 'square 0',
        label: 'Glomerulus',
      },
    ]);
    expect(parseAnnotationShapes(SQUARE, { format: 'glom-squares' as AnnotationFormat })).toEqual(shapes);
    const truth = readGroundTruth(SQUARE, { width: 100, height: 100 });
    expect(truth.polygons).toHaveLength(1);
    // Text of no format still says what is expected, the new one included.
    expect(() => parseAnnotationShapes('hello')).toThrow(
      /expected GeoJSON, labelme JSON, an RLE CSV with an "id,encoding" header or a GLOM squares file/,
    );
  });
});
