/**
 * Property-based tests (fast-check, bounded in time) over the ground-truth parsers: whatever the text, parsing
 * ends with polygons of finite coordinates or a coded client error, never an uncoded exception (INTERNAL).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseAnnotations, type AnnotationFormat } from '@glomseg/shared/annotations.js';
import { isGlomsegError } from '@glomseg/shared/errors.js';

const RUN = { numRuns: 400, interruptAfterTimeLimit: 4000 };
const CLIENT_CODES = new Set(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED']);

function parsesOrRefuses(content: string, format: AnnotationFormat, size = { width: 64, height: 48 }): void {
  try {
    const polygons = parseAnnotations(content, { format, name: 'slide', ...size });
    for (const polygon of polygons) {
      expect(polygon.exterior.length).toBeGreaterThanOrEqual(3);
      for (const ring of [polygon.exterior, ...polygon.holes])
        for (const [x, y] of ring) expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
    }
  } catch (error) {
    if (!isGlomsegError(error) || !CLIENT_CODES.has(error.code)) throw error;
    expect(error.message.length).toBeGreaterThan(0);
  }
}

const coordinate = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 3 }),
  fc.constant(null),
  fc.constant(1e308),
);
const position = fc.oneof(fc.array(coordinate, { maxLength: 3 }), coordinate);
const ring = fc.oneof(fc.array(position, { maxLength: 8 }), coordinate);
const geometry = fc.record(
  {
    type: fc.constantFrom('Polygon', 'MultiPolygon', 'GeometryCollection', 'Point', 'LineString', 'Circle', ''),
    coordinates: fc.oneof(
      fc.array(ring, { maxLength: 3 }),
      fc.array(fc.array(ring, { maxLength: 2 }), { maxLength: 2 }),
      coordinate,
    ),
    geometries: fc.array(
      fc.record({ type: fc.constantFrom('Polygon', 'Point'), coordinates: fc.array(ring, { maxLength: 2 }) }),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);
const feature = fc.record(
  {
    type: fc.constantFrom('Feature', 'feature'),
    geometry: fc.oneof(geometry, fc.constant(null)),
    properties: fc.object({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
const geoJson = fc.oneof(
  fc.record(
    { type: fc.constant('FeatureCollection'), features: fc.oneof(fc.array(feature, { maxLength: 5 }), coordinate) },
    { requiredKeys: ['type'] },
  ),
  fc.array(feature, { maxLength: 5 }),
  feature,
  geometry,
);
const labelme = fc.record(
  {
    shapes: fc.oneof(
      fc.array(
        fc.record(
          {
            label: fc.constantFrom('Glomeruli', 'x'),
            shape_type: fc.constantFrom('polygon', 'rectangle', 'circle'),
            points: fc.oneof(fc.array(position, { maxLength: 6 }), coordinate),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      coordinate,
    ),
  },
  { requiredKeys: [] },
);

describe('annotation parsers under fuzzing', () => {
  it('arbitrary text in every format', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.constantFrom<AnnotationFormat>('auto', 'geojson', 'labelme', 'rle-csv'),
        (text, format) => parsesOrRefuses(text, format),
      ),
      RUN,
    );
  });

  it('arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => parsesOrRefuses(JSON.stringify(value) ?? 'null', 'auto')),
      RUN,
    );
  });

  it('GeoJSON-shaped documents with hostile coordinates', () => {
    fc.assert(
      fc.property(geoJson, (doc) => parsesOrRefuses(JSON.stringify(doc), 'auto')),
      RUN,
    );
  });

  it('labelme-shaped documents', () => {
    fc.assert(
      fc.property(labelme, (doc) => parsesOrRefuses(JSON.stringify(doc), 'auto')),
      RUN,
    );
  });

  it('RLE CSV rows with arbitrary runs, on arbitrary small slide sizes', () => {
    const token = fc.oneof(
      fc.nat({ max: 4000 }).map(String),
      fc.string({ maxLength: 4 }),
      fc.constantFrom('-1', '0', '1e3', '99999999999999999999'),
    );
    const csv = fc
      .tuple(
        fc.constantFrom('id,encoding', 'id,predicted', 'ID , Encoding', 'name,rle'),
        fc.array(fc.tuple(fc.constantFrom('slide', 'other', '"slide"'), fc.array(token, { maxLength: 8 })), {
          maxLength: 3,
        }),
      )
      .map(([header, rows]) => [header, ...rows.map(([id, runs]) => `${id},${runs.join(' ')}`)].join('\n'));
    const size = fc.record({ width: fc.integer({ min: -2, max: 70 }), height: fc.integer({ min: -2, max: 70 }) });
    fc.assert(
      fc.property(csv, size, (text, dims) => parsesOrRefuses(text, 'rle-csv', dims)),
      RUN,
    );
  });
});
