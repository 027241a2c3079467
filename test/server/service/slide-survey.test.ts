/** The slide survey reads a bounded view whatever the slide: a whole small level, or a grid of windows of a big one. */
import { describe, expect, it } from 'vitest';
import type { RegionRequest, SlideLevel, SlideSource } from '@glomseg/shared/slide-source.js';
import { surveySlide, SURVEY_EDGE } from '../../../server/src/service/slide-survey.js';

/** A slide of the given levels, pink tissue in its left half and glass in its right; it records what is read. */
function fakeSlide(levels: Array<[number, number]>): SlideSource & { reads: RegionRequest[] } {
  const [w0] = levels[0];
  const reads: RegionRequest[] = [];
  const slideLevels: SlideLevel[] = levels.map(([width, height], index) => ({
    index,
    width,
    height,
    downsample: w0 / width,
    tileWidth: 256,
    tileHeight: 256,
    synthesized: false,
  }));
  return {
    reads,
    metadata: {
      id: 'fake',
      name: 'fake',
      width: w0,
      height: levels[0][1],
      levels: slideLevels,
      tileWidth: 256,
      tileHeight: 256,
      mppSource: '',
      format: 'tiff',
      compression: 'jpeg',
      metadata: {},
      fileSize: 0,
      samplesPerPixel: 3,
    },
    async readRegion(region) {
      reads.push(region);
      const level = slideLevels[region.level];
      const data = new Uint8Array(region.width * region.height * 3);
      for (let y = 0; y < region.height; y++) {
        for (let x = 0; x < region.width; x++)
          data.set(region.x + x < level.width / 2 ? [200, 100, 180] : [250, 250, 250], (y * region.width + x) * 3);
      }
      return { width: region.width, height: region.height, data };
    },
    async close() {},
  };
}

describe('surveySlide', () => {
  it('reads the smallest level at least SURVEY_EDGE across, whole, and maps its tissue', async () => {
    const slide = fakeSlide([
      [8192, 4096],
      [2048, 1024],
      [512, 256],
      [128, 64],
    ]);
    const survey = await surveySlide(slide);
    expect(slide.reads).toEqual([{ level: 2, x: 0, y: 0, width: 512, height: 256 }]);
    expect(survey.level).toBe(2);
    expect(survey.stain!.tissueFraction).toBeCloseTo(0.5, 2);
    expect(survey.tissue).toMatchObject({ width: SURVEY_EDGE, height: 256, scaleX: 16, scaleY: 16 });
  });

  it('samples a grid of windows from a level too large to read whole, and then maps no tissue', async () => {
    const slide = fakeSlide([[100_000, 80_000]]);
    const survey = await surveySlide(slide);
    expect(slide.reads).toHaveLength(16);
    expect(slide.reads.every((r) => r.level === 0 && r.width === 256 && r.height === 256)).toBe(true);
    expect(survey.stain).toBeDefined();
    expect(survey.tissue).toBeUndefined();
  });
});
