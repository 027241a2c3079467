import { describe, expect, it } from 'vitest';
import { TileScheduler } from '../../../server/src/service/tile-scheduler.js';
import { GlomsegError } from '@glomseg/shared/errors.js';

/** A job that resolves when the test says so, and records whether its run was aborted. */
function gate() {
  let open!: (value: string) => void;
  const promise = new Promise<string>((resolve) => (open = resolve));
  const seen: { started: boolean; aborted: boolean } = { started: false, aborted: false };
  const run = (signal: AbortSignal) => {
    seen.started = true;
    signal.addEventListener('abort', () => (seen.aborted = true));
    return promise;
  };
  return { open, run, seen };
}

describe('TileScheduler', () => {
  it('runs jobs in submission order, at most `concurrency` at once', async () => {
    const scheduler = new TileScheduler<string>({ concurrency: 1, maxQueued: 10 });
    const a = gate();
    const b = gate();
    const signal = new AbortController().signal;
    const pa = scheduler.submit('a', a.run, signal);
    const pb = scheduler.submit('b', b.run, signal);
    expect(a.seen.started).toBe(true);
    expect(b.seen.started).toBe(false);
    expect(scheduler.stats()).toMatchObject({ running: 1, queued: 1 });
    a.open('A');
    expect((await pa).value).toBe('A');
    await Promise.resolve();
    expect(b.seen.started).toBe(true);
    b.open('B');
    expect((await pb).value).toBe('B');
    expect(scheduler.stats().completed).toBe(2);
  });

  it('runs a job asked for by two streams once', async () => {
    const scheduler = new TileScheduler<string>({ concurrency: 2, maxQueued: 10 });
    let runs = 0;
    const job = async () => {
      runs++;
      return 'x';
    };
    const [r1, r2] = await Promise.all([
      scheduler.submit('k', job, new AbortController().signal),
      scheduler.submit('k', job, new AbortController().signal),
    ]);
    expect([r1.value, r2.value]).toEqual(['x', 'x']);
    expect(runs).toBe(1);
    expect(scheduler.stats().deduplicated).toBe(1);
  });

  it('drops a queued job at once when its only stream cancels', async () => {
    const scheduler = new TileScheduler<string>({ concurrency: 1, maxQueued: 10 });
    const a = gate();
    const b = gate();
    const streamB = new AbortController();
    const pa = scheduler.submit('a', a.run, new AbortController().signal);
    const pb = scheduler.submit('b', b.run, streamB.signal);
    streamB.abort();
    await expect(pb).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(scheduler.stats()).toMatchObject({ queued: 0, droppedQueued: 1 });
    a.open('A');
    await pa;
    await Promise.resolve();
    expect(b.seen.started).toBe(false);
  });

  it('keeps a shared job running while one of its streams remains, and aborts it when the last one leaves', async () => {
    const scheduler = new TileScheduler<string>({ concurrency: 1, maxQueued: 10 });
    const a = gate();
    const s1 = new AbortController();
    const s2 = new AbortController();
    const p1 = scheduler.submit('a', a.run, s1.signal);
    const p2 = scheduler.submit('a', a.run, s2.signal);
    s1.abort();
    await expect(p1).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(a.seen.aborted).toBe(false);
    s2.abort();
    await expect(p2).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(a.seen.aborted).toBe(true);
    expect(scheduler.stats().abortedRunning).toBe(1);
  });

  it('refuses work beyond its queue bound with RESOURCE_EXHAUSTED', async () => {
    const scheduler = new TileScheduler<string>({ concurrency: 1, maxQueued: 1 });
    const signal = new AbortController().signal;
    const a = gate();
    const b = gate();
    const pa = scheduler.submit('a', a.run, signal);
    const pb = scheduler.submit('b', b.run, signal);
    const error = await scheduler.submit('c', gate().run, signal).catch((e) => e);
    expect(error).toBeInstanceOf(GlomsegError);
    expect(error.code).toBe('RESOURCE_EXHAUSTED');
    a.open('A');
    b.open('B');
    await Promise.all([pa, pb]);
  });

  it('reports a failing job to every waiter and goes on with the next', async () => {
    const scheduler = new TileScheduler<string>({ concurrency: 1, maxQueued: 10 });
    const signal = new AbortController().signal;
    const failing = scheduler.submit(
      'bad',
      async () => {
        throw new GlomsegError('FAILED_PRECONDITION', 'broken tile');
      },
      signal,
    );
    const fine = scheduler.submit('good', async () => 'ok', signal);
    await expect(failing).rejects.toThrow('broken tile');
    expect((await fine).value).toBe('ok');
    expect(scheduler.stats().failed).toBe(1);
  });
});
