/**
 * Property-based tests of the TIFF reader (fast-check, bounded in time): a small valid tiled TIFF with random
 * bytes overwritten (header, IFD entries, tile tables) or cut short opens and reads, or fails with a coded error
 * that is not INTERNAL, within a deadline (no hang).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import { GeoTiffSlideSource } from '../../../server/src/slides/geotiff-slide-source.js';
import { writeTiledTiff } from './tiff-fixture.js';

const PER_FILE_DEADLINE_MS = 10_000;
let dir: string;
let base: Uint8Array;
let runs = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-tiff-fuzz-'));
  const width = 96;
  const height = 64;
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 251);
  base = writeTiledTiff([{ width, height, tileSize: 32, rgb }]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openAndRead(bytes: Uint8Array): Promise<void> {
  const file = path.join(dir, `fuzz-${runs++}.tif`);
  await writeFile(file, bytes);
  try {
    const source = await GeoTiffSlideSource.open(file, 'fuzz.tif');
    try {
      const level = source.metadata.levels.length - 1;
      const image = await source.readRegion({ level, x: 0, y: 0, width: 32, height: 32 });
      expect(image.data.length).toBe(32 * 32 * 3);
    } finally {
      await source.close();
    }
  } catch (error) {
    if (!isGlomsegError(error) || error.code === 'INTERNAL') throw error;
    expect(error.message).not.toMatch(/please report|github\.com/i);
  } finally {
    await rm(file, { force: true });
  }
}

function withDeadline(work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${PER_FILE_DEADLINE_MS} ms (a hang)`)),
      PER_FILE_DEADLINE_MS,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

describe('TIFF reader under fuzzing', () => {
  it('survives overwritten bytes anywhere in the file', async () => {
    const edit = fc.array(fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff))), {
      minLength: 1,
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(edit, fc.boolean(), async (edits, nearHeader) => {
        const bytes = base.slice();
        // Half the runs aim at the header and the IFD (at the end of this writer's files), where the layout lives.
        for (const [at, value] of edits) {
          const offset = nearHeader ? (at % 2 ? at % 16 : bytes.length - 1 - (at % 400)) : at % bytes.length;
          bytes[offset] = value;
        }
        await withDeadline(openAndRead(bytes));
      }),
      { numRuns: 150, interruptAfterTimeLimit: 20_000 },
    );
  }, 60_000);

  it('survives truncation at any length', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: base.length }), async (length) =>
        withDeadline(openAndRead(base.slice(0, length))),
      ),
      { numRuns: 80, interruptAfterTimeLimit: 15_000 },
    );
  }, 60_000);
});
