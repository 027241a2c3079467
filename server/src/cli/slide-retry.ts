/**
 * Which failures of a slide are the server's (retry it, on another server) and which are the slide's own (do not):
 * UNAVAILABLE (a server that died, refuses connections or is draining) and streams that broke off are retried with
 * bounded attempts and exponential backoff; every other status (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION,
 * ...) says the slide or the request is bad, and a retry would only fail again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, ConnectError } from '@connectrpc/connect';
import { isGlomsegError } from '@glomseg/shared/errors.js';

export interface RetryPolicy {
  /** Tries per slide, the first included. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 250, maxBackoffMs: 4000 };

/**
 * Whether a failed slide is worth another attempt: the server was unavailable (down, draining, or its stream ended
 * short: the wire mapping's UNAVAILABLE), or the HTTP/2 connection broke under the call.
 */
export function isRetryable(error: unknown): boolean {
  if (isGlomsegError(error)) return error.code === 'UNAVAILABLE';
  if (!(error instanceof ConnectError)) return false;
  if (error.code === Code.Unavailable) return true;
  // A connection reset mid-stream surfaces as INTERNAL from the HTTP/2 layer, not from the server's handler.
  return error.code === Code.Internal && /RST_STREAM|Connection dropped|stream removed/i.test(error.rawMessage);
}

/** Backoff before attempt `attempt` (2, 3, ...): doubling, capped, with full jitter so retries spread out. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 2));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Runs `body` until it succeeds, fails for good, or the attempts run out; `onRetry` hears each retried failure. */
export async function withRetry<T>(
  policy: RetryPolicy,
  body: (attempt: number) => Promise<T>,
  onRetry: (error: unknown, attempt: number, delayMs: number) => void,
  signal?: AbortSignal,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await body(attempt), attempts: attempt };
    } catch (error) {
      if (signal?.aborted || !isRetryable(error) || attempt >= policy.maxAttempts) {
        throw Object.assign(error as object, { attempts: attempt });
      }
      const delay = backoffMs(policy, attempt + 1);
      onRetry(error, attempt, delay);
      await sleep(delay, undefined, { signal });
    }
  }
}
