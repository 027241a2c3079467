/**
 * The contract for reading a slide: metadata plus regions of any pyramid level, read tile by tile.
 * Implementations live at the edge (server/src/slides); this file only states the contract.
 */

export interface SlideLevel {
  index: number;
  width: number;
  height: number;
  /** Level-0 pixels per pixel of this level. */
  downsample: number;
  /** Native tile size, or 0 for strips / synthesised levels. */
  tileWidth: number;
  tileHeight: number;
  /** True when the file lacks this level and it is made by downsampling another. */
  synthesized: boolean;
}

export interface SlideMetadata {
  id: string;
  name: string;
  width: number;
  height: number;
  levels: SlideLevel[];
  tileWidth: number;
  tileHeight: number;
  /** Micrometres per level-0 pixel, or undefined when the file does not say. */
  mppX?: number;
  mppY?: number;
  /** Where mppX/mppY came from, as the reader names it ('aperio', 'ome', 'tiff-resolution', 'openslide'), or ''. */
  mppSource: string;
  /** The file format as its reader names it ('tiff', 'bigtiff', 'ome-tiff', 'aperio-svs', 'png', 'jpeg', ...): open, so a new reader needs no change here. */
  format: string;
  compression: string;
  metadata: Record<string, string>;
  fileSize: number;
  samplesPerPixel: number;
}

/** Interleaved 8-bit RGB pixels, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface RegionRequest {
  level: number;
  /** Region in the level's own pixel coordinates; parts outside the level read as white (255). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SlideSource {
  readonly metadata: SlideMetadata;
  /** Reads a region of one level as RGB. Only the tiles it covers are decoded. */
  readRegion(region: RegionRequest, signal?: AbortSignal): Promise<RgbImage>;
  /**
   * The stored bytes of one native tile when they are a complete JPEG a browser can show as-is
   * (JPEGTables spliced in, RGB or YCbCr), else undefined.
   */
  readRawJpegTile?(level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /**
   * The whole of one level in one pass, where reading it by regions would cost the file many times over (a PNG
   * decoded from the top for every band). Resampled by the reader's own filter, so for views of the slide (the
   * survey), not for model tiles. Call it through readWholeLevel, which falls back to readRegion.
   */
  readLevelOverview?(level: number, signal?: AbortSignal): Promise<RgbImage>;
  close(): Promise<void>;
}

/** The whole of one level: in one pass where the source offers it (readLevelOverview), else by readRegion. */
export function readWholeLevel(source: SlideSource, level: number, signal?: AbortSignal): Promise<RgbImage> {
  if (source.readLevelOverview) return source.readLevelOverview(level, signal);
  const { width, height } = source.metadata.levels[level];
  return source.readRegion({ level, x: 0, y: 0, width, height }, signal);
}
