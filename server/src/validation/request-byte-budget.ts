/**
 * One budget of request bytes in flight for the whole process, both ports together. A request holds its message's
 * bytes from the moment they are announced (the gRPC length prefix, read before the rest of the body) until its
 * call ends; past the budget it is refused with RESOURCE_EXHAUSTED before its body is read, and nothing else waits.
 * A 50 MB annotation costs about three times that while it is parsed and scored, so eight at once took 1.2 GB: the
 * budget bounds that up front (maxInFlightRequestBytes in limits.ts). A compressed message holds what it may inflate
 * to (the message limit), since its length prefix gives only its compressed size.
 */
import { GlomsegError } from '@glomseg/shared/errors.js';

export interface RequestByteStats {
  budgetBytes: number;
  inFlightBytes: number;
  /** Requests holding bytes now. */
  inFlight: number;
  admitted: number;
  refused: number;
}

/** Bytes held by one request; release() is idempotent (the call's end and its cancellation may both call it). */
export interface ByteLease {
  readonly bytes: number;
  release(): void;
}

const MB = 1024 * 1024;

function megabytes(bytes: number): string {
  return bytes >= 10 * MB ? `${Math.round(bytes / MB)} MB` : `${(bytes / MB).toFixed(1)} MB`;
}

export class RequestByteBudget {
  private inFlightBytes = 0;
  private inFlight = 0;
  private admitted = 0;
  private refused = 0;

  constructor(readonly budgetBytes: number) {
    if (!Number.isFinite(budgetBytes) || budgetBytes <= 0)
      throw new RangeError(`the request byte budget must be a positive number, got ${budgetBytes}`);
  }

  /** Holds `bytes` for a request of `what` (a method name), or throws RESOURCE_EXHAUSTED when they do not fit now. */
  take(bytes: number, what: string): ByteLease {
    if (bytes > this.budgetBytes) {
      this.refused++;
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `${what}: a request of ${megabytes(bytes)} is larger than this server's budget for request bytes in flight (${megabytes(this.budgetBytes)}, maxInFlightRequestBytes)`,
      );
    }
    if (this.inFlightBytes + bytes > this.budgetBytes) {
      this.refused++;
      throw new GlomsegError(
        'RESOURCE_EXHAUSTED',
        `${what}: the server is busy: requests in flight hold ${megabytes(this.inFlightBytes)} of its ${megabytes(this.budgetBytes)} budget for request bytes and this one brings ${megabytes(bytes)}; try again shortly`,
      );
    }
    this.inFlightBytes += bytes;
    this.inFlight++;
    this.admitted++;
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.inFlightBytes -= bytes;
        this.inFlight--;
      },
    };
  }

  stats(): RequestByteStats {
    return {
      budgetBytes: this.budgetBytes,
      inFlightBytes: this.inFlightBytes,
      inFlight: this.inFlight,
      admitted: this.admitted,
      refused: this.refused,
    };
  }
}

/** gRPC and gRPC-Web frame each message with a flag byte (bit 0: compressed) and a 4-byte big-endian length. */
export const MESSAGE_PREFIX_BYTES = 5;

/**
 * What a request's first message is charged, from its prefix: its length, or the message limit when it is
 * compressed (what it may inflate to). A length past the limit is charged the limit: the limit refuses it anyway.
 */
export function chargedBytes(prefix: Uint8Array, maxMessageBytes: number): number {
  const compressed = (prefix[0] & 0x01) !== 0;
  const length = new DataView(prefix.buffer, prefix.byteOffset, MESSAGE_PREFIX_BYTES).getUint32(1);
  return compressed ? maxMessageBytes : Math.min(length, maxMessageBytes);
}
