import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewedRegion } from '@glomseg/shared/adaptation.js';
import { planTileGrid } from '@glomseg/shared/tile-grid.js';
import { writeRegionCrops, type CropSlides } from '../../../server/src/adaptation/region-crops.js';
import { fakeCard, paintedSlide } from '../../helpers/fake-ports.js';

const square = (x: number, y: number, w: number, h: number): Array<[number, number]> => [
  [x, y],
  [x + w, y],
  [x + w, y + h],
  [x, y + h],
];

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'glomseg-crops-'));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

describe('writeRegionCrops', () => {
  it("cuts each region at the model's pixel size, its glomeruli and outline in crop pixels, into adapt.py's manifest", async () => {
    // A 0.5 um/px slide and a model at 2 um/px: 4 level-0 pixels a model pixel. Tissue left of x = 400, glass right.
    const slide = paintedSlide({ width: 2000, height: 1000, mpp: 0.5, tissue: (x) => x < 400 });
    const card = fakeCard({ mpp: 2, downsample: undefined });
    const grid = planTileGrid(slide.metadata, card);
    expect(grid.scale).toBe(4);
    const slides: CropSlides = {
      open: async () => slide,
      gridOf: async () => grid,
      stainOf: async () => ({ mean: [60, 20, -10], std: [10, 5, 4] }),
    };
    const regions: ReviewedRegion[] = [
      {
        id: 'painted.tif/big',
        slideId: 'painted.tif',
        outline: { exterior: square(200, 100, 800, 400), holes: [] },
        glomeruli: [{ exterior: square(240, 140, 80, 40), holes: [square(260, 150, 8, 8)] }],
      },
      // Smaller than adapt.py's 32-pixel crop: grown around its centre, kept on the slide (the corner).
      {
        id: 'painted.tif/small',
        slideId: 'painted.tif',
        outline: { exterior: square(0, 0, 40, 40), holes: [] },
        glomeruli: [],
      },
    ];
    const manifest = JSON.parse(
      await readFile(await writeRegionCrops(slides, card, regions, folder, new AbortController().signal), 'utf8'),
    );
    expect(manifest.mpp).toBe(2);
    const [big, small] = manifest.regions;
    expect(big).toMatchObject({
      id: 'painted.tif/big',
      slide: 'painted.tif',
      stain: { mean: [60, 20, -10], std: [10, 5, 4] },
    });
    expect(big.reviewed).toEqual([square(0, 0, 200, 100)]);
    expect(big.glomeruli).toEqual([[square(10, 10, 20, 10), square(15, 12.5, 2, 2)]]);
    const bigPng = await sharp(path.join(folder, big.image)).raw().toBuffer({ resolveWithObject: true });
    expect([bigPng.info.width, bigPng.info.height, bigPng.info.channels]).toEqual([200, 100, 3]);
    // Crop pixel (40, 50) is level-0 (360, 300): tissue; (60, 50) is (440, 300): glass, read through the slide source.
    const pixel = (x: number, y: number) => [...bigPng.data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3)];
    expect(pixel(40, 50)).not.toEqual([250, 250, 250]);
    expect(pixel(60, 50)).toEqual([250, 250, 250]);
    expect(small.reviewed).toEqual([square(0, 0, 10, 10)]);
    const smallPng = await sharp(path.join(folder, small.image)).metadata();
    expect([smallPng.width, smallPng.height]).toEqual([32, 32]);
    expect(slide.reads.every((r) => r.level === grid.level)).toBe(true);
  });
});
