/** Slide image tiles for viewers: stored JPEG tiles pass through untouched; anything else is encoded here. */
import sharp from 'sharp';
import type { SlideSource } from '@glomseg/shared/slide-source.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ViewerTile } from '@glomseg/shared/glomseg-service.js';
import { VIEWER_TILE_SIZE } from '@glomseg/shared/constants.js';

export function viewerTileSize(source: SlideSource, level: number): { width: number; height: number } {
  const l = source.metadata.levels[level];
  if (l && l.tileWidth > 0 && l.tileHeight > 0 && !l.synthesized) return { width: l.tileWidth, height: l.tileHeight };
  return { width: VIEWER_TILE_SIZE, height: VIEWER_TILE_SIZE };
}

export async function readViewerTile(
  source: SlideSource,
  level: number,
  col: number,
  row: number,
  signal?: AbortSignal,
): Promise<ViewerTile> {
  const levels = source.metadata.levels;
  if (!Number.isInteger(level) || level < 0 || level >= levels.length) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `level ${level} does not exist; slide ${source.metadata.id} has levels 0 to ${levels.length - 1}`,
    );
  }
  const l = levels[level];
  const size = viewerTileSize(source, level);
  const cols = Math.ceil(l.width / size.width);
  const rows = Math.ceil(l.height / size.height);
  if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= cols || row >= rows) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `tile (${col}, ${row}) is outside level ${level}, which has ${cols} x ${rows} tiles`,
    );
  }
  if (!l.synthesized && source.readRawJpegTile) {
    const raw = await source.readRawJpegTile(level, col, row, signal);
    if (raw) return { contentType: 'image/jpeg', data: raw, passthrough: true };
  }
  const width = Math.min(size.width, l.width - col * size.width);
  const height = Math.min(size.height, l.height - row * size.height);
  const image = await source.readRegion({ level, x: col * size.width, y: row * size.height, width, height }, signal);
  const jpeg = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  return {
    contentType: 'image/jpeg',
    data: new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength),
    passthrough: false,
  };
}
