/** Property-based tests of RLE (fast-check, bounded in time): decode(encode(mask)) = mask, and bad text is a coded error. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMaskRle, encodeMaskRle, parseRle, rleToPolygons } from '@glomseg/shared/rle.js';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import { countPolygonPixels } from '@glomseg/shared/rasterize.js';

const RUN = { numRuns: 300, interruptAfterTimeLimit: 4000 };
const mask = fc
  .record({ width: fc.integer({ min: 1, max: 24 }), height: fc.integer({ min: 1, max: 24 }) })
  .chain(({ width, height }) =>
    fc.tuple(
      fc.constant(width),
      fc.constant(height),
      fc.uint8Array({ minLength: width * height, maxLength: width * height, max: 1 }),
    ),
  );

describe('RLE under fuzzing', () => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(mask, ([width, height, pixels]) => {
        expect(decodeMaskRle(encodeMaskRle(pixels, width, height), width, height)).toEqual(pixels);
      }),
      RUN,
    );
  });

  it('traces polygons that cover exactly the mask pixels', () => {
    fc.assert(
      fc.property(mask, ([width, height, pixels]) => {
        const polygons = rleToPolygons(encodeMaskRle(pixels, width, height), width, height);
        const count = pixels.reduce((sum, p) => sum + p, 0);
        expect(countPolygonPixels(polygons, { x: 0, y: 0, width, height })).toBe(count);
      }),
      RUN,
    );
  });

  it('answers arbitrary text with runs or a coded INVALID_ARGUMENT', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc
        .array(fc.oneof(fc.integer({ min: -5, max: 3000 }).map(String), fc.constantFrom('1.5', 'x', '')), {
          maxLength: 10,
        })
        .map((t) => t.join(' ')),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: -1, max: 50 }), fc.integer({ min: -1, max: 50 }), (rle, width, height) => {
        try {
          for (const [start, length] of parseRle(rle, width, height)) {
            expect(start).toBeGreaterThanOrEqual(0);
            expect(start + length).toBeLessThanOrEqual(width * height);
          }
        } catch (error) {
          if (!isGlomsegError(error) || error.code !== 'INVALID_ARGUMENT') throw error;
        }
      }),
      RUN,
    );
  });
});
