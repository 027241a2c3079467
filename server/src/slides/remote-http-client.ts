/**
 * The HTTP client geotiff's remote source reads a slide URL through: range GETs with retries on transient failures
 * (network errors, 408, 429, 5xx; exponential backoff), no redirects (a redirect could lead anywhere the URL
 * allowlist did not allow), and errors a person understands for the rest. It counts requests and bytes, so the
 * cost of reading a slide remotely can be compared with its size.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BaseClient, BaseResponse } from 'geotiff';
import { GlomsegError } from '@glomseg/shared/errors.js';

export interface RemoteReadStats {
  requests: number;
  bytes: number;
  retries: number;
}

export interface RemoteClientOptions {
  /** Tries per request, the first included. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  /** What to call the slide in messages (never the presigned query). */
  label?: string;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

class FetchedResponse extends BaseResponse {
  constructor(
    private readonly response: Response,
    private readonly stats: RemoteReadStats,
  ) {
    super();
  }

  override get status(): number {
    return this.response.status;
  }

  override getHeader(name: string): string | undefined {
    return this.response.headers.get(name) ?? undefined;
  }

  override async getData(): Promise<ArrayBuffer> {
    const data = await this.response.arrayBuffer();
    this.stats.bytes += data.byteLength;
    return data;
  }
}

export class RemoteHttpClient extends BaseClient {
  readonly stats: RemoteReadStats = { requests: 0, bytes: 0, retries: 0 };
  /** geotiff's block source reports failures as a bare "Request failed"; the cause is kept here. */
  lastError: unknown;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly label: string;

  constructor(url: string, options: RemoteClientOptions = {}) {
    super(url);
    this.maxAttempts = options.maxAttempts ?? 4;
    this.initialBackoffMs = options.initialBackoffMs ?? 200;
    this.label = options.label ?? url;
  }

  override async request(options: RequestInit = {}): Promise<BaseResponse> {
    try {
      return await this.requestWithRetries(options);
    } catch (error) {
      this.lastError = error;
      throw error;
    }
  }

  private async requestWithRetries(options: RequestInit): Promise<BaseResponse> {
    const signal = options.signal ?? undefined;
    for (let attempt = 1; ; attempt++) {
      let failure: GlomsegError;
      try {
        this.stats.requests++;
        const response = await fetch(this.url, { headers: options.headers, signal, redirect: 'manual' });
        if (response.status === 206) return new FetchedResponse(response, this.stats);
        await response.body?.cancel().catch(() => undefined);
        if (response.status === 200) {
          throw new GlomsegError(
            'FAILED_PRECONDITION',
            `slide URL ${this.label}: the server does not answer HTTP range requests (it sent the whole file)`,
          );
        }
        if (response.status >= 300 && response.status < 400) {
          throw new GlomsegError(
            'FAILED_PRECONDITION',
            `slide URL ${this.label}: redirected (HTTP ${response.status}); give the final URL, redirects are not followed`,
          );
        }
        if (response.status === 404 || response.status === 410)
          throw new GlomsegError('NOT_FOUND', `slide URL ${this.label}: not found (HTTP ${response.status})`);
        if (response.status === 401 || response.status === 403) {
          throw new GlomsegError(
            'FAILED_PRECONDITION',
            `slide URL ${this.label}: access denied (HTTP ${response.status}; an expired presigned URL, or credentials without access)`,
          );
        }
        if (response.status === 416)
          throw new GlomsegError(
            'INVALID_ARGUMENT',
            `slide URL ${this.label}: a read past the end of the file (HTTP 416): the file is truncated`,
          );
        failure = new GlomsegError(
          TRANSIENT_STATUS.has(response.status) ? 'UNAVAILABLE' : 'FAILED_PRECONDITION',
          `slide URL ${this.label}: HTTP ${response.status}`,
        );
        if (!TRANSIENT_STATUS.has(response.status)) throw failure;
      } catch (error) {
        if (signal?.aborted) throw error;
        if (error instanceof GlomsegError) {
          if (error.code !== 'UNAVAILABLE') throw error;
          failure = error;
        } else {
          failure = new GlomsegError('UNAVAILABLE', `slide URL ${this.label}: ${networkMessage(error)}`, {
            cause: error,
          });
        }
      }
      if (attempt >= this.maxAttempts)
        throw new GlomsegError('UNAVAILABLE', `${failure.message} (after ${attempt} tries)`, { cause: failure });
      this.stats.retries++;
      await sleep(this.initialBackoffMs * 2 ** (attempt - 1), undefined, { signal });
    }
  }
}

function networkMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
