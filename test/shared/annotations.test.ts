import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import {
  PREDICTED_CLASS,
  parseAnnotationShapes,
  parseAnnotations,
  toQuPathGeoJson,
  toRleCsv,
} from '@glomseg/shared/annotations.js';
import { check } from '@placemarkio/check-geojson';
import { encodeMaskRle } from '@glomseg/shared/rle.js';
import { DATA as dataDir } from '../helpers/paths.js';

const read = (relative: string) => readFileSync(path.join(dataDir, relative), 'utf8');

describe('parseAnnotations on real files', () => {
  it('reads the evaluation region FeatureCollection (60 glomeruli, closing points dropped)', () => {
    const polygons = parseAnnotations(read('hubmap-vu/eval-region/kidney-region.geojson'));
    expect(polygons).toHaveLength(60);
    // First feature: 12 positions, the last repeating the first.
    expect(polygons[0].exterior).toHaveLength(11);
    expect(polygons[0].exterior[0]).toEqual([3209.71, 2.3]);
    expect(polygons[0].exterior[10]).toEqual([3429.49, 0.1]);
    for (const p of polygons) {
      for (const [x, y] of p.exterior) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(6400);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(4800);
      }
    }
  });

  it('reads all 15 QuPath per-slide exports (bare arrays of Features)', () => {
    const expected: Record<string, number> = {
      'VAN0003-LK-33-2': 96,
      'VAN0005-RK-1-1': 366,
      'VAN0005-RK-4-172': 323,
      'VAN0005-RK-8-2': 470,
      'VAN0006-LK-2-85': 143,
      'VAN0006-LK-7-2': 322,
      'VAN0008-RK-403-100': 182,
      'VAN0009-LK-102-7': 201,
      'VAN0009-LK-106-2': 144,
      'VAN0010-LK-155-40': 142,
      'VAN0011-RK-33-2': 126,
      'VAN0013-LK-202-96': 257,
      'VAN0014-LK-203-108': 151,
      'VAN0014-LK-207-2': 165,
      'VAN0016-LK-208-2': 587,
    };
    const files = readdirSync(path.join(dataDir, 'hubmap-annotations')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(15);
    for (const file of files) {
      const slide = Object.keys(expected).find((key) => file.startsWith(`${key}-`));
      expect(slide, file).toBeDefined();
      const polygons = parseAnnotations(read(`hubmap-annotations/${file}`));
      expect(polygons, file).toHaveLength(expected[slide!]);
      expect(
        polygons.every(
          (p) => p.exterior.length >= 3 && p.exterior.every(([x, y]) => x >= 0 && y >= 0 && x < 60000 && y < 60000),
        ),
      ).toBe(true);
    }
  });

  it('reads the first manual annotation of VAN0003 with its exact coordinates', () => {
    const [first] = parseAnnotations(read('hubmap-annotations/VAN0003-LK-33-2-PAS_FFPE_glom_annotations.json'), {
      format: 'geojson',
    });
    expect(first.exterior.slice(0, 3)).toEqual([
      [2553, 12397],
      [2495, 12449],
      [2491, 12528],
    ]);
    expect(first.exterior).toHaveLength(11);
  });

  it('reads a labelme tile annotation', () => {
    const polygons = parseAnnotations(read('hubmap-vu/tiles/106.json'));
    expect(polygons).toHaveLength(1);
    expect(polygons[0].exterior).toHaveLength(12);
    expect(polygons[0].exterior[8]).toEqual([1599, 574]);
    expect(parseAnnotations(read('hubmap-vu/tiles/106.json'), { format: 'labelme' })).toEqual(polygons);
  });
});

describe('parseAnnotations on hand-made input', () => {
  it('reads MultiPolygons with holes, single Features and bare geometries, ignoring points and lines', () => {
    const multi = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: {},
          geometry: {
            type: 'MultiPolygon',
            coordinates: [
              [
                [
                  [0, 0],
                  [10, 0],
                  [10, 10],
                  [0, 10],
                  [0, 0],
                ],
                [
                  [2, 2],
                  [2, 4],
                  [4, 4],
                  [4, 2],
                  [2, 2],
                ],
              ],
              [
                [
                  [20, 0],
                  [30, 0],
                  [30, 5],
                  [20, 0],
                ],
              ],
            ],
          },
        },
        { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [1, 2] } },
        {
          type: 'Feature',
          properties: {},
          geometry: {
            type: 'LineString',
            coordinates: [
              [1, 2],
              [3, 4],
            ],
          },
        },
        { type: 'Feature', properties: {}, geometry: null },
      ],
    };
    const polygons = parseAnnotations(JSON.stringify(multi));
    expect(polygons).toEqual([
      {
        exterior: [
          [0, 0],
          [10, 0],
          [10, 10],
          [0, 10],
        ],
        holes: [
          [
            [2, 2],
            [2, 4],
            [4, 4],
            [4, 2],
          ],
        ],
      },
      {
        exterior: [
          [20, 0],
          [30, 0],
          [30, 5],
        ],
        holes: [],
      },
    ]);
    const feature = {
      type: 'Feature',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
          ],
        ],
      },
    };
    expect(parseAnnotations(JSON.stringify(feature))).toHaveLength(1);
    expect(parseAnnotations(JSON.stringify(feature.geometry))).toHaveLength(1);
  });

  it('reads labelme rectangles and skips other shapes', () => {
    const labelme = {
      shapes: [
        {
          label: 'Glomeruli',
          shape_type: 'rectangle',
          points: [
            [10, 20],
            [4, 5],
          ],
        },
        { label: 'x', shape_type: 'point', points: [[1, 1]] },
        {
          label: 'Glomeruli',
          points: [
            [0, 0],
            [3, 0],
            [3, 3],
          ],
        },
      ],
    };
    expect(parseAnnotations(JSON.stringify(labelme))).toEqual([
      {
        exterior: [
          [4, 5],
          [10, 5],
          [10, 20],
          [4, 20],
        ],
        holes: [],
      },
      {
        exterior: [
          [0, 0],
          [3, 0],
          [3, 3],
        ],
        holes: [],
      },
    ]);
  });

  it('reads an RLE CSV row by slide name, or the only row', () => {
    // 4 x 3 mask with column 1 fully set: pixels 4-6.
    const csv = 'id,encoding\r\nslide-a,4 3\r\nslide-b,1 1\r\n';
    const [column] = parseAnnotations(csv, { name: 'slide-a.tif', width: 4, height: 3 });
    expect(Object.keys(column).sort()).toEqual(['exterior', 'holes']);
    expect(column.exterior).toEqual([
      [2, 0],
      [2, 3],
      [1, 3],
      [1, 0],
    ]);
    expect(parseAnnotations('id,predicted\nonly,1 1\n', { width: 4, height: 3 })[0].exterior).toEqual([
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ]);
    expect(() => parseAnnotations(csv, { width: 4, height: 3 })).toThrowError(/2 rows; name the slide/);
    expect(() => parseAnnotations(csv, { name: 'slide-c', width: 4, height: 3 })).toThrowError(
      /no row with id "slide-c" \(ids: slide-a, slide-b\)/,
    );
    expect(() => parseAnnotations(csv, { name: 'slide-a' })).toThrowError(/width and height/);
    expect(() => parseAnnotations('id,encoding\na,1 99\n', { width: 4, height: 3 })).toThrowError(
      /line 2 \(id "a"\).*past the last pixel/,
    );
  });

  it('says what is wrong and where', () => {
    const expectInvalid = (content: string, pattern: RegExp, options = {}) => {
      let error: unknown;
      try {
        parseAnnotations(content, options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GlomsegError);
      expect((error as GlomsegError).code).toBe('INVALID_ARGUMENT');
      expect((error as GlomsegError).message).toMatch(pattern);
    };
    expectInvalid('', /empty/);
    expectInvalid('{"type": "FeatureCollection", "features": [', /not valid JSON/);
    expectInvalid('{"hello": 1}', /neither GeoJSON/);
    expectInvalid('hello world', /cannot tell the annotation format/);
    expectInvalid(
      '[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}},{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,"a"],[1,1]]]}}]',
      /feature 1 ring 0 point 1 is not an \[x, y\] pair/,
    );
    expectInvalid('{"type":"FeatureCollection"}', /no "features" list/);
    expectInvalid('{"type":"Feature","geometry":{"type":"Circle"}}', /unknown geometry type 'Circle'/);
    expectInvalid(
      '{"shapes":[{"shape_type":"rectangle","points":[[0,0]]}]}',
      /labelme shape 0 is a rectangle with 1 points/,
    );
    expectInvalid('id,rle\na,1 1', /expected columns "id" and "encoding"/, { format: 'rle-csv', width: 2, height: 2 });
    expectInvalid('id,encoding\na,1 1', /should be geojson JSON/, { format: 'geojson' });
    // A number JSON can hold but no slide has: refused by name, not left to fail inside the scoring maths.
    expectInvalid(
      '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1e308,0],[1,1]]]}}',
      /ring 0 point 1 \(1e\+308, 0\) is beyond \+-1073741824 pixels/,
    );
    expectInvalid(
      '{"shapes":[{"label":"Glomeruli","points":[[0,0],[3,-2e9],[3,3]]}]}',
      /labelme shape 0 point 1 .* is beyond/,
    );
  });

  it('tells a 0-byte file from one of white space', () => {
    expect(() => parseAnnotations('')).toThrowError(/empty \(0 bytes\)/);
    expect(() => parseAnnotations(' \n')).toThrowError(/empty \(only white space\)/);
  });

  it('gives each shape the class its file names: QuPath classification (derived classes too), labelme label', () => {
    const feature = (properties: unknown) => ({
      type: 'Feature',
      properties,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [4, 0],
            [4, 4],
            [0, 0],
          ],
        ],
      },
    });
    const geojson = [
      feature({ classification: { name: 'Tissue', color: [1, 2, 3] } }),
      feature({ classification: { names: ['Glomerulus', 'Sclerotic'] } }),
      feature({ classification: 'glomerulus' }),
      feature({}),
      feature(null),
    ];
    expect(parseAnnotationShapes(JSON.stringify(geojson)).map((s) => [s.label, s.where])).toEqual([
      ['Tissue', 'feature 0'],
      ['Glomerulus: Sclerotic', 'feature 1'],
      ['glomerulus', 'feature 2'],
      [undefined, 'feature 3'],
      [undefined, 'feature 4'],
    ]);
    const labelme = {
      shapes: [
        {
          label: ' Tubule ',
          points: [
            [0, 0],
            [3, 0],
            [3, 3],
          ],
        },
        {
          label: '',
          points: [
            [0, 0],
            [3, 0],
            [3, 3],
          ],
        },
      ],
    };
    expect(parseAnnotationShapes(JSON.stringify(labelme)).map((s) => s.label)).toEqual(['Tubule', undefined]);
    expect(parseAnnotationShapes('id,encoding\na,1 1\n', { width: 2, height: 2 })[0]).toMatchObject({
      where: 'RLE CSV line 2',
    });
  });
});

describe('export', () => {
  const polygons: GlomerulusPolygon[] = [
    {
      exterior: [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
      ],
      holes: [
        [
          [2, 2],
          [2, 4],
          [4, 4],
          [4, 2],
        ],
      ],
      area: 96,
      meanProbability: 0.8,
      touches: [],
    },
  ];

  it('marks areas from a pixel size the slide file did not record: Assumed or Estimated µm/px beside Area µm^2', () => {
    const measurements = (mppSource?: 'file' | 'request' | 'estimated' | 'model-default') =>
      toQuPathGeoJson(polygons, { mpp: 0.5, mppSource }).features[0].properties.measurements;
    expect(measurements('model-default')).toEqual({ 'Area µm^2': 24, 'Assumed µm/px': 0.5, 'Mean probability': 0.8 });
    expect(measurements('estimated')).toEqual({ 'Area µm^2': 24, 'Estimated µm/px': 0.5, 'Mean probability': 0.8 });
    for (const stated of ['file', 'request', undefined] as const)
      expect(measurements(stated)).toEqual({ 'Area µm^2': 24, 'Mean probability': 0.8 });
  });

  it('writes QuPath GeoJSON detections with closed rings, a uuid, their own class and measurements with units', () => {
    const collection = toQuPathGeoJson(polygons, { mpp: 0.5, idScope: 'slide-a' });
    expect(collection.type).toBe('FeatureCollection');
    const [feature] = collection.features;
    expect(feature).toEqual({
      type: 'Feature',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [10, 0],
            [10, 10],
            [0, 10],
            [0, 0],
          ],
          [
            [2, 2],
            [2, 4],
            [4, 4],
            [4, 2],
            [2, 2],
          ],
        ],
      },
      properties: {
        objectType: 'detection',
        classification: { name: 'Glomerulus (predicted)', color: PREDICTED_CLASS.color },
        measurements: { 'Area µm^2': 24, 'Mean probability': 0.8 },
      },
    });
    // Not the ground truth's class or colour.
    expect(PREDICTED_CLASS.color).not.toEqual([0, 200, 0]);
    // Stable: the same polygon of the same slide keeps its id (a re-import replaces it); another slide's differs.
    expect(toQuPathGeoJson(polygons, { mpp: 0.5, idScope: 'slide-a' }).features[0].id).toBe(feature.id);
    expect(toQuPathGeoJson(polygons, { mpp: 0.5, idScope: 'slide-b' }).features[0].id).not.toBe(feature.id);
    expect(parseAnnotations(JSON.stringify(collection))).toEqual([
      { exterior: polygons[0].exterior, holes: polygons[0].holes },
    ]);
    // Options: annotations instead, another class; without a pixel size, areas in px^2.
    const other = toQuPathGeoJson(polygons, { objectType: 'annotation', className: 'Glom', color: [1, 2, 3] })
      .features[0].properties;
    expect(other.objectType).toBe('annotation');
    expect(other.classification).toEqual({ name: 'Glom', color: [1, 2, 3] });
    expect(other.measurements).toEqual({ 'Area px^2': 96, 'Mean probability': 0.8 });
  });

  it('writes GeoJSON that an independent strict reader (check-geojson) accepts as is', () => {
    const text = JSON.stringify(toQuPathGeoJson(polygons, { mpp: 0.5 }));
    const read = check(text);
    expect(read.features).toHaveLength(1);
    expect(read.features[0].geometry?.type).toBe('Polygon');
    expect(read.features[0].id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes an RLE CSV that reads back', () => {
    const rle = encodeMaskRle(new Uint8Array([1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1]), 4, 3);
    const csv = toRleCsv([
      { id: 'slide-a', rle },
      { id: 'odd,name', rle: '' },
    ]);
    expect(csv).toBe('id,predicted\nslide-a,1 1 4 3 11 2\n"odd,name",\n');
    const back = parseAnnotations(csv, { name: 'slide-a', width: 4, height: 3 });
    expect(back.map((p) => p.exterior.length)).toEqual([6, 4]); // 4-connected: the L shape and the 2-pixel bar
    expect(parseAnnotations(csv, { name: 'odd,name', width: 4, height: 3 })).toEqual([]);
  });
});
