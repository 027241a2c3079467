import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { BrokenStreamError, backoffMs, isRetryable, withRetry } from '../../../server/src/cli/slide-retry.js';

const policy = { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 4 };

describe('slide retries', () => {
  it('retries what the server caused, never what the slide caused', () => {
    expect(isRetryable({ code: status.UNAVAILABLE, details: 'Connection dropped' })).toBe(true);
    expect(isRetryable(new BrokenStreamError('no result'))).toBe(true);
    expect(isRetryable({ code: status.INTERNAL, details: 'Received RST_STREAM with code 2' })).toBe(true);
    for (const code of [status.NOT_FOUND, status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.RESOURCE_EXHAUSTED, status.CANCELLED]) {
      expect(isRetryable({ code, details: 'x' })).toBe(false);
    }
    expect(isRetryable({ code: status.INTERNAL, details: 'internal server error (see the server log)' })).toBe(false);
  });

  it('backs off with capped, jittered doubling and stops after the attempts', async () => {
    const big = { maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 1000 };
    expect(backoffMs(big, 2, () => 1)).toBe(100);
    expect(backoffMs(big, 3, () => 0)).toBe(100);
    expect(backoffMs(big, 3, () => 1)).toBe(200);
    expect(backoffMs(big, 9, () => 1)).toBe(1000);
    let calls = 0;
    const retried: number[] = [];
    const failure = await withRetry(policy, async () => {
      calls++;
      throw Object.assign(new Error('down'), { code: status.UNAVAILABLE });
    }, (_e, attempt) => retried.push(attempt)).catch((e) => e);
    expect(calls).toBe(3);
    expect(retried).toEqual([1, 2]);
    expect(failure.attempts).toBe(3);
    calls = 0;
    const bad = await withRetry(policy, async () => {
      calls++;
      throw Object.assign(new Error('no such slide'), { code: status.NOT_FOUND });
    }, () => {}).catch((e) => e);
    expect(calls).toBe(1);
    expect(bad.attempts).toBe(1);
    const ok = await withRetry(policy, async (attempt) => {
      if (attempt < 2) throw new BrokenStreamError('cut');
      return 'done';
    }, () => {});
    expect(ok).toEqual({ value: 'done', attempts: 2 });
  });
});
