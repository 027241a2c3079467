import { describe, expect, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { backoffMs, isRetryable, withRetry } from '../../../server/src/cli/slide-retry.js';

const policy = { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 4 };

describe('slide retries', () => {
  it('retries what the server caused, never what the slide caused', () => {
    expect(isRetryable(new ConnectError('Connection dropped', Code.Unavailable))).toBe(true);
    // A stream that ended short (api/src/client/from-proto.ts scoreEventsFromProto).
    expect(isRetryable(new GlomsegError('UNAVAILABLE', 'the ScoreSlide stream ended before its result'))).toBe(true);
    expect(isRetryable(new ConnectError('Received RST_STREAM with code 2', Code.Internal))).toBe(true);
    for (const code of [
      Code.NotFound,
      Code.InvalidArgument,
      Code.FailedPrecondition,
      Code.ResourceExhausted,
      Code.Canceled,
    ]) {
      expect(isRetryable(new ConnectError('x', code))).toBe(false);
    }
    expect(isRetryable(new GlomsegError('NOT_FOUND', 'no such slide'))).toBe(false);
    expect(isRetryable(new ConnectError('internal server error (see the server log)', Code.Internal))).toBe(false);
  });

  it('backs off with capped, jittered doubling and stops after the attempts', async () => {
    const big = { maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 1000 };
    expect(backoffMs(big, 2, () => 1)).toBe(100);
    expect(backoffMs(big, 3, () => 0)).toBe(100);
    expect(backoffMs(big, 3, () => 1)).toBe(200);
    expect(backoffMs(big, 9, () => 1)).toBe(1000);
    let calls = 0;
    const retried: number[] = [];
    const failure = await withRetry(
      policy,
      async () => {
        calls++;
        throw new ConnectError('down', Code.Unavailable);
      },
      (_e, attempt) => retried.push(attempt),
    ).catch((e) => e);
    expect(calls).toBe(3);
    expect(retried).toEqual([1, 2]);
    expect(failure.attempts).toBe(3);
    calls = 0;
    const bad = await withRetry(
      policy,
      async () => {
        calls++;
        throw new ConnectError('no such slide', Code.NotFound);
      },
      () => {},
    ).catch((e) => e);
    expect(calls).toBe(1);
    expect(bad.attempts).toBe(1);
    const ok = await withRetry(
      policy,
      async (attempt) => {
        if (attempt < 2) throw new GlomsegError('UNAVAILABLE', 'cut');
        return 'done';
      },
      () => {},
    );
    expect(ok).toEqual({ value: 'done', attempts: 2 });
  });
});
