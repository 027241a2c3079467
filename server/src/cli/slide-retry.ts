/**
 * Which failures of a slide are the server's (retry it, on another server) and which are the slide's own (do not):
 * UNAVAILABLE (a server that died, refuses connections or is draining) and streams that broke off are retried with
 * bounded attempts and exponential backoff; every other status (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION,
 * ...) says the slide or the request is bad, and a retry would only fail again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';

export interface RetryPolicy {
  /** Tries per slide, the first included. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 250, maxBackoffMs: 4000 };

/** A stream that ended without its result: the server went away mid-slide without a status. */
export class BrokenStreamError extends Error {
  readonly retryable = true;
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof BrokenStreamError) return true;
  const e = error as { code?: unknown; details?: unknown };
  if (e?.code === status.UNAVAILABLE) return true;
  // A connection reset mid-stream surfaces as INTERNAL from the HTTP/2 layer, not from the server's handler.
  return e?.code === status.INTERNAL && typeof e.details === 'string' && /RST_STREAM|Connection dropped|stream removed/i.test(e.details);
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
