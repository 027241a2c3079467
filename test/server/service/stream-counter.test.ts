/** The stream counter: active while a stream runs, then completed, failed or cancelled (aborted, or left early). */
import { describe, expect, it } from 'vitest';
import { StreamCounter } from '../../../server/src/service/stream-counter.js';

async function* numbers(failWith?: Error): AsyncGenerator<number> {
  yield 1;
  yield 2;
  if (failWith) throw failWith;
}

describe('StreamCounter', () => {
  it('counts a stream active while it runs and completed when it ends', async () => {
    const counter = new StreamCounter();
    const stream = counter.track(new AbortController().signal, () => numbers());
    expect(counter.stats().activeStreams).toBe(0);
    await stream.next();
    expect(counter.stats()).toMatchObject({ activeStreams: 1, completedStreams: 0 });
    for await (const _ of stream);
    expect(counter.stats()).toEqual({ activeStreams: 0, completedStreams: 1, cancelledStreams: 0, failedStreams: 0 });
  });

  it('counts an error as a failure, and as a cancel once its signal aborted', async () => {
    const counter = new StreamCounter();
    const failure = new Error('boom');
    await expect(async () => {
      for await (const _ of counter.track(new AbortController().signal, () => numbers(failure)));
    }).rejects.toBe(failure);
    const aborted = new AbortController();
    aborted.abort();
    await expect(async () => {
      for await (const _ of counter.track(aborted.signal, () => numbers(failure)));
    }).rejects.toBe(failure);
    expect(counter.stats()).toEqual({ activeStreams: 0, completedStreams: 0, cancelledStreams: 1, failedStreams: 1 });
  });

  it('counts a consumer that stops pulling early (client gone) as a cancel', async () => {
    const counter = new StreamCounter();
    for await (const _ of counter.track(new AbortController().signal, () => numbers())) break;
    expect(counter.stats()).toEqual({ activeStreams: 0, completedStreams: 0, cancelledStreams: 1, failedStreams: 0 });
  });
});
