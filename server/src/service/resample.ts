/** Resizes RGB pixels with libvips (through sharp), off the JavaScript thread. */
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '@glomseg/shared/slide-source.js';

export function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return Promise.resolve(image);
  return transformRgb(image, (pipeline) => pipeline.resize(width, height, { fit: 'fill', kernel: 'lanczos3' }));
}

/** RGB pixels through a libvips pipeline (`transform` adds its steps to sharp's), back as RGB pixels. */
export async function transformRgb(image: RgbImage, transform: (pipeline: Sharp) => Sharp): Promise<RgbImage> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const { data, info } = await transform(sharp(image.data, { raw })).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
