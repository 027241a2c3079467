import { describe, expect, it } from 'vitest';
import * as shared from '@glomseg/shared';

describe('@glomseg/shared public API', () => {
  it('re-exports the library from one entry point', () => {
    for (const name of [
      'GlomsegError',
      'planTileGrid',
      'toModelInput',
      'toProbabilityMap',
      'cropProbability',
      'maskToPolygons',
      'joinAcrossTiles',
      'rasterizePolygons',
      'polygonArea',
      'polygonBBox',
      'computeDiceMetrics',
      'createDiceAccumulator',
      'encodeMaskRle',
      'decodeMaskRle',
      'encodePolygonsRle',
      'rleToPolygons',
      'parseAnnotations',
      'toQuPathGeoJson',
      'toRleCsv',
    ]) {
      expect(typeof (shared as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
