/**
 * The byte source of a TIFF slide behind a URL: geotiff's remote source (HTTP range requests through
 * RemoteHttpClient) with its block cache, bounded to REMOTE_CACHE_BLOCKS blocks of REMOTE_BLOCK_BYTES per open
 * slide. Only the header, the IFDs and the tiles asked for are fetched, never the whole file. Same interface as
 * TiffFileSource, so GeoTiffSlideSource reads either without knowing which.
 */
import { fromCustomClient } from 'geotiff';
import { GlomsegError, isGlomsegError } from '@glomseg/shared/errors.js';
import { RemoteHttpClient, type RemoteReadStats } from './remote-http-client.js';
import { checkReadRange, type ByteSlice, type TiffBytes } from './tiff-file-source.js';

/** Bytes per range request: a few JPEG tiles, or a whole IFD. */
export const REMOTE_BLOCK_BYTES = 64 * 1024;
/** Blocks kept per open slide (8 MiB): decoded tiles are cached above this, so blocks are rarely read twice. */
export const REMOTE_CACHE_BLOCKS = 128;

interface BlockSource {
  fetch(slices: ByteSlice[], signal?: AbortSignal): Promise<ArrayBuffer[]>;
  readonly fileSize: number | null;
}

export class RemoteTiffSource implements TiffBytes {
  private constructor(
    private readonly client: RemoteHttpClient,
    private readonly blocks: BlockSource,
    readonly path: string,
    readonly size: number,
  ) {}

  /** Opens `url` (fetches its first block); `label` names it in messages (a presigned query stays out of logs). */
  static async open(url: string, label: string, signal?: AbortSignal): Promise<RemoteTiffSource> {
    const client = new RemoteHttpClient(url, { label });
    // geotiff's typings omit the block options its remote source takes.
    const blockOptions = { blockSize: REMOTE_BLOCK_BYTES, cacheSize: REMOTE_CACHE_BLOCKS } as object;
    const tiff = await fromCustomClient(client, blockOptions, signal).catch((error) => {
      throw remoteError(client, label, error);
    });
    const blocks = tiff.source as unknown as BlockSource;
    if (!blocks.fileSize)
      throw new GlomsegError(
        'FAILED_PRECONDITION',
        `slide URL ${label}: the server did not say the file's size (no Content-Range total)`,
      );
    return new RemoteTiffSource(client, blocks, label, blocks.fileSize);
  }

  get stats(): Readonly<RemoteReadStats> {
    return this.client.stats;
  }

  /** Reads exactly [offset, offset + length); bytes past the end of the file (within the slack) read as 0, as TiffFileSource. */
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const [data] = await this.fetch([{ offset, length }], signal);
    return new Uint8Array(data);
  }

  async fetch(slices: ByteSlice[], signal?: AbortSignal): Promise<ArrayBuffer[]> {
    for (const { offset, length } of slices) checkReadRange(offset, length, this.size);
    try {
      const data = await this.blocks.fetch(slices, signal);
      // geotiff hands back views short of `length` past the end of the file; pad them as a file read would.
      return data.map((buffer, i) => {
        if (buffer.byteLength >= slices[i].length) return buffer;
        const padded = new Uint8Array(slices[i].length);
        padded.set(new Uint8Array(buffer));
        return padded.buffer;
      });
    } catch (error) {
      throw remoteError(this.client, this.path, error);
    }
  }

  async fetchSlice(slice: ByteSlice, signal?: AbortSignal): Promise<ByteSlice & { data: ArrayBuffer }> {
    const [data] = await this.fetch([slice], signal);
    return { ...slice, data };
  }

  /** Nothing is held open: fetch keeps no connection per slide. */
  async close(): Promise<void> {}
}

/** The client's own error when geotiff reduced it to "Request failed"; otherwise a plain UNAVAILABLE. */
function remoteError(client: RemoteHttpClient, label: string, error: unknown): unknown {
  if (isGlomsegError(error)) return error;
  if (isGlomsegError(client.lastError)) return client.lastError;
  if ((error as Error)?.name === 'AbortError') return error;
  return new GlomsegError(
    'UNAVAILABLE',
    `slide URL ${label}: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}
