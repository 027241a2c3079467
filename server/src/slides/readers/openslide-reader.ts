/**
 * Vendor formats through Debian's OpenSlide (libopenslide0), called with koffi: Hamamatsu NDPI and VMS/VMU,
 * 3DHISTECH MRXS, Leica SCN, Ventana BIF, Sakura SVSLIDE. Optional: where the library cannot be loaded the reader
 * supports nothing, and the other readers are unchanged. It claims only those endings: TIFF-family files stay with
 * the geotiff reader, so crafted TIFFs never reach C code in the server's process (a Philips TIFF reads as a TIFF).
 *
 * OpenSlide's calls block, so opens and reads run through koffi's async calls, off the serving thread. Regions of
 * a stored level are read with level-0 coordinates rounded from the level's own; levels the file lacks are
 * synthesised by area averaging as the other readers do. The configured bounds apply to OpenSlide's tile grid.
 */
import { basename } from 'node:path';
import koffi from 'koffi';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { RegionRequest, RgbImage, SlideMetadata, SlideSource } from '@glomseg/shared/slide-source.js';
import { hasExtension, type ReaderLimits } from '../slide-reader.js';
import { statSlideFile } from '../slide-file.js';
import { registerSlideReader } from '../slide-readers.js';
import { validateRegion } from '../rgb-region.js';
import { planPyramid, readPlannedRegion, type ReadRealRegion, type LevelRecipe } from '../synthesized-levels.js';

const EXTENSIONS = ['.ndpi', '.vms', '.vmu', '.mrxs', '.scn', '.bif', '.svslide'];
/** Vendor properties passed on in the metadata, at most this many, each value cut to 4096 characters. */
const MAX_PROPERTIES = 256;

type Handle = unknown;
type AsyncCall = (...args: unknown[]) => void;
interface OpenSlideApi {
  open: { async: AsyncCall };
  close: (osr: Handle) => void;
  error: (osr: Handle) => string | null;
  levelCount: (osr: Handle) => number;
  levelDimensions: (osr: Handle, level: number, width: number[], height: number[]) => void;
  propertyNames: (osr: Handle) => unknown;
  propertyValue: (osr: Handle, name: string) => string | null;
  readRegion: { async: AsyncCall };
}

let loaded: OpenSlideApi | null | undefined;

/** The library's functions, or null where it is not installed (looked up once). */
function openslide(): OpenSlideApi | null {
  if (loaded !== undefined) return loaded;
  try {
    const lib = koffi.load('libopenslide.so.0');
    koffi.opaque('openslide_t');
    loaded = {
      open: lib.func('openslide_t *openslide_open(const char *filename)'),
      close: lib.func('void openslide_close(openslide_t *osr)'),
      error: lib.func('const char *openslide_get_error(openslide_t *osr)'),
      levelCount: lib.func('int32_t openslide_get_level_count(openslide_t *osr)'),
      levelDimensions: lib.func(
        'void openslide_get_level_dimensions(openslide_t *osr, int32_t level, _Out_ int64_t *w, _Out_ int64_t *h)',
      ),
      propertyNames: lib.func('void *openslide_get_property_names(openslide_t *osr)'),
      propertyValue: lib.func('const char *openslide_get_property_value(openslide_t *osr, const char *name)'),
      readRegion: lib.func(
        'void openslide_read_region(openslide_t *osr, _Out_ uint32_t *dest, int64_t x, int64_t y, int32_t level, int64_t w, int64_t h)',
      ),
    } as unknown as OpenSlideApi;
  } catch {
    loaded = null;
  }
  return loaded;
}

function call<T>(fn: { async: AsyncCall }, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) =>
    fn.async(...args, (error: unknown, result: T) => (error ? reject(error) : resolve(result))),
  );
}

function properties(api: OpenSlideApi, osr: Handle): Record<string, string> {
  const names = api.propertyNames(osr);
  const out: Record<string, string> = {};
  for (let i = 0; i < MAX_PROPERTIES; i++) {
    const name = koffi.decode(names, i * koffi.sizeof('char *'), 'char *') as string | null;
    if (name === null) break;
    out[name] = (api.propertyValue(osr, name) ?? '').slice(0, 4096);
  }
  return out;
}

class OpenSlideSource implements SlideSource {
  private reads = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    readonly metadata: SlideMetadata,
    private readonly api: OpenSlideApi,
    private readonly osr: Handle,
    private readonly recipes: LevelRecipe[],
    private readonly limits: ReaderLimits,
  ) {}

  static async open(
    api: OpenSlideApi,
    filePath: string,
    id: string,
    limits: ReaderLimits,
    signal?: AbortSignal,
  ): Promise<OpenSlideSource> {
    const info = await statSlideFile(filePath);
    const name = basename(filePath);
    const osr = await call<Handle>(api.open, filePath);
    if (!osr) throw new GlomsegError('INVALID_ARGUMENT', `not a slide OpenSlide reads: ${name}`);
    const failed = api.error(osr);
    if (failed || signal?.aborted) {
      api.close(osr);
      throwIfAborted(signal);
      throw new GlomsegError('INVALID_ARGUMENT', `not a readable slide: ${name}: OpenSlide: ${failed}`);
    }
    const props = properties(api, osr);
    const stored = Array.from({ length: api.levelCount(osr) }, (_, level) => {
      const width = [0];
      const height = [0];
      api.levelDimensions(osr, level, width, height);
      const tile = (side: string) => Number(props[`openslide.level[${level}].tile-${side}`] ?? 0);
      return { width: width[0], height: height[0], tileWidth: tile('width'), tileHeight: tile('height') };
    });
    const plan = planPyramid(stored);
    const mpp = (axis: string) =>
      Number(props[`openslide.mpp-${axis}`]) > 0 ? Number(props[`openslide.mpp-${axis}`]) : undefined;
    const metadata: SlideMetadata = {
      id,
      name,
      width: stored[0].width,
      height: stored[0].height,
      levels: plan.levels,
      tileWidth: stored[0].tileWidth,
      tileHeight: stored[0].tileHeight,
      mppX: mpp('x'),
      mppY: mpp('y'),
      mppSource: mpp('x') ? 'openslide' : '',
      format: `openslide-${props['openslide.vendor'] ?? 'unknown'}`,
      compression: props['tiff.Compression'] ?? '',
      metadata: props,
      fileSize: info.size,
      samplesPerPixel: 3,
    };
    return new OpenSlideSource(metadata, api, osr, plan.recipes, limits);
  }

  async readRegion(region: RegionRequest, signal?: AbortSignal): Promise<RgbImage> {
    if (this.closed) throw new GlomsegError('FAILED_PRECONDITION', `slide '${this.metadata.id}' is closed`);
    validateRegion(region, this.metadata.levels.length);
    throwIfAborted(signal);
    const recipe = this.recipes[region.level];
    const real = this.storedLevel(recipe.realIndex);
    const readStored: ReadRealRegion = (index, x, y, width, height) => this.readStored(index, x, y, width, height);
    return readPlannedRegion(readStored, recipe, real, this.metadata.levels[region.level], region, signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.reads]);
    this.api.close(this.osr);
  }

  /** The listed level that is stored level `realIndex`. */
  private storedLevel(realIndex: number) {
    return this.metadata.levels.find((l) => !l.synthesized && this.recipes[l.index].realIndex === realIndex)!;
  }

  /** A window of stored level `realIndex` (its own pixels), over white where it leaves the slide. */
  private async readStored(realIndex: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
    const level = this.storedLevel(realIndex);
    this.checkBounds(level.tileWidth, level.tileHeight, x, y, width, height);
    const argb = new Uint32Array(width * height);
    const read = call<void>(
      this.api.readRegion,
      this.osr,
      argb,
      Math.round(x * level.downsample),
      Math.round(y * level.downsample),
      realIndex,
      width,
      height,
    );
    this.reads.add(read);
    try {
      await read;
    } finally {
      this.reads.delete(read);
    }
    const failed = this.api.error(this.osr);
    if (failed)
      throw new GlomsegError('FAILED_PRECONDITION', `cannot read ${this.metadata.name}: OpenSlide: ${failed}`);
    return overWhite(argb, width, height);
  }

  private checkBounds(
    tileWidth: number,
    tileHeight: number,
    x: number,
    y: number,
    width: number,
    height: number,
  ): void {
    if (!(tileWidth > 0 && tileHeight > 0)) return;
    const tiles =
      (Math.floor((x + width - 1) / tileWidth) - Math.floor(x / tileWidth) + 1) *
      (Math.floor((y + height - 1) / tileHeight) - Math.floor(y / tileHeight) + 1);
    if (tiles > this.limits.maxStoredBlocksPerRead || tileWidth * tileHeight * 4 > this.limits.maxDecodedTileBytes) {
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `${this.metadata.name}: a ${width} x ${height} window spans ${tiles} stored tiles of ${tileWidth} x ${tileHeight} pixels; at most ${this.limits.maxStoredBlocksPerRead} per read and ${this.limits.maxDecodedTileBytes} bytes per tile`,
      );
    }
  }
}

/** OpenSlide's premultiplied ARGB as RGB over white: transparent (outside the slide) reads white, as elsewhere. */
function overWhite(argb: Uint32Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < argb.length; i++) {
    const pixel = argb[i];
    const clear = 255 - (pixel >>> 24);
    data[i * 3] = ((pixel >>> 16) & 255) + clear;
    data[i * 3 + 1] = ((pixel >>> 8) & 255) + clear;
    data[i * 3 + 2] = (pixel & 255) + clear;
  }
  return { width, height, data };
}

registerSlideReader({
  name: 'openslide',
  // Listed only where the library is: without it these files would be listed and never open.
  get extensions() {
    return openslide() ? EXTENSIONS : [];
  },
  support: (probe) => (probe.path !== undefined && hasExtension(probe, EXTENSIONS) && openslide() ? 1 : undefined),
  open: (probe, { id, limits, signal }) => OpenSlideSource.open(openslide()!, probe.path!, id, limits, signal),
});
