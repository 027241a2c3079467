/** Real RGB pixels for the inference tests: crops of the HuBMAP kidney tiles, decoded by sharp. */
import path from 'node:path';
import sharp from 'sharp';
import { HUBMAP_VU } from '../../../server/src/repo-paths.mjs';
import type { RgbImage } from '@glomseg/shared/slide-source.js';

export { REPO_ROOT as repoRoot } from '../../helpers/paths.js';
export const tilesFolder = path.join(HUBMAP_VU, 'tiles');

export async function readTileCrop(
  tileId: string,
  left: number,
  top: number,
  width: number,
  height: number,
): Promise<RgbImage> {
  const { data, info } = await sharp(path.join(tilesFolder, `${tileId}.jpg`))
    .extract({ left, top, width, height })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** A whole tile resized by 1/`downsample` (to a model's working scale). */
export async function readTileScaled(tileId: string, downsample: number): Promise<RgbImage> {
  const source = sharp(path.join(tilesFolder, `${tileId}.jpg`));
  const { width = 0, height = 0 } = await source.metadata();
  const { data, info } = await source
    .resize(Math.round(width / downsample), Math.round(height / downsample), { kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

export function cropRgb(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}
