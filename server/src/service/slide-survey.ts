/**
 * A slide's survey, made once per slide from a low-resolution view: its stain statistics (over tissue) and a map of
 * where its tissue is, so that tiles of bare glass are not inferred. The view is bounded up front whatever the
 * file: the smallest pyramid level at least SURVEY_EDGE pixels across, read whole when it is small enough, else a
 * fixed grid of windows of it (then statistics only, no map).
 */
import { readWholeLevel, type RgbImage, type SlideSource } from '@glomseg/shared/slide-source.js';
import { measureStainStatistics, type SlideStainStatistics } from '@glomseg/shared/stain-normalization.js';
import { tissueMask, type TissueMap } from '@glomseg/shared/tissue-mask.js';
import { resizeRgb } from './resample.js';

/** Long side of the view measured, in pixels. */
export const SURVEY_EDGE = 512;
/** Largest level area read whole for the view; past it, a grid of windows. */
const MAX_READ_PIXELS = 16 * 1024 * 1024;
const SAMPLE_GRID = 4;
const SAMPLE_EDGE = 256;

export interface SlideSurvey {
  /** Undefined when the view shows too little tissue to measure. */
  stain?: SlideStainStatistics;
  /** Pyramid level the view was read from. */
  level: number;
  /** Where the tissue is; undefined when the view was sampled rather than read whole. */
  tissue?: TissueMap;
}

export async function surveySlide(source: SlideSource, signal?: AbortSignal): Promise<SlideSurvey> {
  const levels = [...source.metadata.levels].sort((a, b) => b.downsample - a.downsample);
  const level = levels.find((l) => Math.max(l.width, l.height) >= SURVEY_EDGE) ?? levels[levels.length - 1];
  let view: RgbImage;
  let whole = false;
  if (level.width * level.height <= MAX_READ_PIXELS) {
    const full = await readWholeLevel(source, level.index, signal);
    const fit = SURVEY_EDGE / Math.max(level.width, level.height);
    view =
      fit < 1
        ? await resizeRgb(full, Math.max(1, Math.round(level.width * fit)), Math.max(1, Math.round(level.height * fit)))
        : full;
    whole = true;
  } else {
    view = await sampleWindows(source, level.index, level.width, level.height, signal);
  }
  const stain = measureStainStatistics(view);
  if (!whole) return { stain, level: level.index };
  const { mask } = tissueMask(view);
  const tissue: TissueMap = {
    width: view.width,
    height: view.height,
    mask,
    scaleX: source.metadata.width / view.width,
    scaleY: source.metadata.height / view.height,
  };
  return { stain, level: level.index, tissue };
}

/** A mosaic of SAMPLE_GRID x SAMPLE_GRID windows spread evenly over a level too large to read whole. */
async function sampleWindows(
  source: SlideSource,
  level: number,
  width: number,
  height: number,
  signal?: AbortSignal,
): Promise<RgbImage> {
  const edge = SAMPLE_EDGE;
  const mosaic = new Uint8Array(SAMPLE_GRID * edge * SAMPLE_GRID * edge * 3);
  const rowBytes = SAMPLE_GRID * edge * 3;
  for (let gy = 0; gy < SAMPLE_GRID; gy++) {
    for (let gx = 0; gx < SAMPLE_GRID; gx++) {
      const x = Math.round(((gx + 0.5) * width) / SAMPLE_GRID - edge / 2);
      const y = Math.round(((gy + 0.5) * height) / SAMPLE_GRID - edge / 2);
      const window = await source.readRegion({ level, x, y, width: edge, height: edge }, signal);
      for (let row = 0; row < edge; row++) {
        mosaic.set(
          window.data.subarray(row * edge * 3, (row + 1) * edge * 3),
          (gy * edge + row) * rowBytes + gx * edge * 3,
        );
      }
    }
  }
  return { width: SAMPLE_GRID * edge, height: SAMPLE_GRID * edge, data: mosaic };
}
