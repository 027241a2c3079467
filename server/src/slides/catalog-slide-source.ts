/** What `SlideCatalog.open` returns: the slide's metadata, reads borrowed from the catalog's open source. */
import {
  readWholeLevel,
  type RegionRequest,
  type RgbImage,
  type SlideMetadata,
  type SlideSource,
} from '@glomseg/shared/slide-source.js';

/** Who lends the open source (the catalog): it is not closed while `fn` runs. */
export interface SourceLender {
  withSource<T>(id: string, fn: (source: SlideSource) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export class CatalogSlideSource implements SlideSource {
  constructor(
    private readonly lender: SourceLender,
    private readonly id: string,
    readonly metadata: SlideMetadata,
  ) {}

  readRegion(region: RegionRequest, signal?: AbortSignal): Promise<RgbImage> {
    return this.lender.withSource(this.id, (source) => source.readRegion(region, signal), signal);
  }

  readRawJpegTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.lender.withSource(this.id, async (source) => source.readRawJpegTile?.(level, col, row, signal), signal);
  }

  readLevelOverview(level: number, signal?: AbortSignal): Promise<RgbImage> {
    return this.lender.withSource(this.id, (source) => readWholeLevel(source, level, signal), signal);
  }

  /** The catalog owns the file; nothing to do. */
  async close(): Promise<void> {}
}
