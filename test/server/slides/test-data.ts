/** Paths to the shared real data and small pixel helpers for the slide tests. */
import path from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '@glomseg/shared/slide-source.js';

import { DATA as dataDir } from '../../helpers/paths.js';

export { dataDir };
export const kidneyRegion = path.join(dataDir, 'hubmap-vu/eval-region/kidney-region.tif');
export const kidneyRegionQuarter = path.join(dataDir, 'hubmap-vu/eval-region/kidney-region-quarter.tif');
export const cmuSmallRegion = path.join(dataDir, 'wsi/CMU-1-Small-Region.svs');
export const jpeg2000Svs = path.join(dataDir, 'wsi/TCGA-CR-7395-01A-01-TS1-jp2k.svs');
export const hubmapTile = path.join(dataDir, 'hubmap-vu/tiles/106.jpg');

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Independent decode: sharp (libvips) reads one page of a file and cuts a rectangle out of it. */
export async function sharpRegion(
  file: string,
  page: number,
  left: number,
  top: number,
  width: number,
  height: number,
): Promise<RgbImage> {
  const { data, info } = await sharp(file, { page })
    .extract({ left, top, width, height })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** Decodes any image file or buffer to RGB with sharp. */
export async function sharpRgb(input: string | Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(input)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

export function crop(image: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++)
    data.set(
      image.data.subarray(((y + r) * image.width + x) * 3, ((y + r) * image.width + x + width) * 3),
      r * width * 3,
    );
  return { width, height, data };
}

/** Mean of each factor x factor block inside the image (reference for synthesised levels). */
export function boxAverage(image: RgbImage, factor: number): RgbImage {
  const width = Math.ceil(image.width / factor);
  const height = Math.ceil(image.height / factor);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let sy = y * factor; sy < Math.min(image.height, (y + 1) * factor); sy++) {
          for (let sx = x * factor; sx < Math.min(image.width, (x + 1) * factor); sx++) {
            sum += image.data[(sy * image.width + sx) * 3 + c];
            n++;
          }
        }
        data[(y * width + x) * 3 + c] = Math.round(sum / n);
      }
    }
  }
  return { width, height, data };
}
