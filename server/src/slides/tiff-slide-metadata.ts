/**
 * A TIFF slide's metadata from its pyramid: the format (Aperio SVS, OME-TIFF, BigTIFF, TIFF), the pixel size and
 * where it came from (Aperio MPP, OME PhysicalSize, else the TIFF resolution tags), and the vendor metadata.
 */
import type { SlideLevel, SlideMetadata } from '@glomseg/shared/slide-source.js';
import {
  isAperioDescription,
  isOmeXml,
  parseAperioDescription,
  parseOmeXml,
  pixelSizeFromResolution,
  type PixelSize,
} from './tiff-description.js';
import { tiffCompressionName } from './tiff-codecs/index.js';
import { stringTag, tagValue, type TiffPyramid } from './tiff-pyramid.js';

export async function describeTiffSlide(
  pyramid: TiffPyramid,
  levels: SlideLevel[],
  file: { id: string; name: string; fileSize: number },
): Promise<SlideMetadata> {
  const { stored, first, bigTiff, truncatedChain } = pyramid;
  const description = first.description;
  const aperio = isAperioDescription(description);
  const ome = isOmeXml(description);
  const metadata: Record<string, string> = {};
  let pixelSize: PixelSize | undefined;
  let mppSource = '';
  if (aperio || ome) {
    const parsed = aperio ? parseAperioDescription(description) : parseOmeXml(description);
    Object.assign(metadata, parsed.metadata);
    if (parsed.pixelSize) {
      pixelSize = parsed.pixelSize;
      mppSource = aperio ? 'aperio' : 'ome';
    }
  } else if (description) {
    metadata['tiff.ImageDescription'] = description.slice(0, 4096);
  }
  const level0 = stored[0];
  if (!pixelSize) {
    pixelSize = pixelSizeFromResolution(
      await tagValue(level0.image, 'XResolution'),
      await tagValue(level0.image, 'YResolution'),
      await tagValue(level0.image, 'ResolutionUnit'),
    );
    if (pixelSize) mppSource = 'tiff-resolution';
  }
  for (const name of ['Software', 'DateTime', 'Make', 'Model', 'Artist']) {
    const value = await stringTag(first.image, name);
    if (value) metadata[`tiff.${name}`] = value;
  }
  metadata['tiff.Compression'] = String(level0.compression);
  metadata['tiff.PhotometricInterpretation'] = String(level0.photometric);
  metadata['tiff.StoredLevels'] = String(stored.length);
  if (level0.unreadable) metadata['glomseg.unreadable'] = level0.unreadable;
  if (truncatedChain)
    metadata['glomseg.warning'] =
      'the chain of image directories points past the end of the file (truncated?); later directories were skipped';
  return {
    id: file.id,
    name: file.name,
    width: level0.width,
    height: level0.height,
    levels,
    tileWidth: level0.tiled ? level0.blockWidth : 0,
    tileHeight: level0.tiled ? level0.blockHeight : 0,
    mppX: pixelSize?.mppX,
    mppY: pixelSize?.mppY,
    mppSource,
    format: aperio ? 'aperio-svs' : ome ? 'ome-tiff' : bigTiff ? 'bigtiff' : 'tiff',
    compression: tiffCompressionName(level0.compression),
    metadata,
    fileSize: file.fileSize,
    samplesPerPixel: level0.samplesPerPixel,
  };
}
