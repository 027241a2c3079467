/**
 * The byte source geotiff reads a slide through: a local file handle that refuses reads far past the end of the
 * file. geotiff's own file source zero-fills such reads (and allocates whatever length a garbage header asks
 * for), which turns truncated or garbage files into silent wrong pixels or huge allocations instead of an error.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** geotiff reads IFDs in fixed-size chunks that may run past the end of a small file; allow that much slack. */
export const READ_SLACK_BYTES = 64 * 1024;

/** Refuses a read of a `size`-byte file that is not whole bytes or runs past its end by more than the slack. */
export function checkReadRange(offset: number, length: number, size: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size + READ_SLACK_BYTES
  ) {
    throw new RangeError(`read of ${length} bytes at offset ${offset} runs past the end of the ${size}-byte file`);
  }
}

export interface ByteSlice {
  offset: number;
  length: number;
}

/** What GeoTiffSlideSource reads a TIFF through: a local file, or a URL (RemoteTiffSource). */
export interface TiffBytes {
  readonly size: number;
  /** A name for messages. */
  readonly path: string;
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  fetch(slices: ByteSlice[], signal?: AbortSignal): Promise<ArrayBuffer[]>;
  fetchSlice(slice: ByteSlice, signal?: AbortSignal): Promise<ByteSlice & { data: ArrayBuffer }>;
  close(): Promise<void>;
}

export class TiffFileSource implements TiffBytes {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<TiffFileSource> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      return new TiffFileSource(handle, path, size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get fileSize(): number {
    return this.size;
  }

  /** Reads exactly [offset, offset + length); bytes past the end of the file (within the slack) read as 0. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkReadRange(offset, length, this.size);
    const buffer = new Uint8Array(length);
    const available = Math.max(0, Math.min(length, this.size - offset));
    let done = 0;
    while (done < available) {
      const { bytesRead } = await this.handle.read(buffer, done, available - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer;
  }

  /** geotiff's BaseSource interface. */
  async fetch(slices: ByteSlice[], signal?: AbortSignal): Promise<ArrayBuffer[]> {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    return Promise.all(
      slices.map(async (slice) => (await this.read(slice.offset, slice.length)).buffer as ArrayBuffer),
    );
  }

  async fetchSlice(slice: ByteSlice, signal?: AbortSignal): Promise<ByteSlice & { data: ArrayBuffer }> {
    const [data] = await this.fetch([slice], signal);
    return { ...slice, data };
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
