import { describe, expect, it } from 'vitest';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import { createJob, imageError, runRequest, settle, type Job } from '../../../server/src/inference/inference-job.js';
import type { ProbabilityMap } from '@glomseg/shared/segmenter.js';

const rgb = (width: number, height: number) => ({ width, height, data: new Uint8Array(width * height * 3) });

describe('inference job', () => {
  it('refuses an RGB image whose buffer does not match its size, naming both', () => {
    expect(imageError(rgb(4, 2))).toBeUndefined();
    const error = imageError({ width: 4, height: 2, data: new Uint8Array(23) });
    expect(isGlomsegError(error) && error.code).toBe('INVALID_ARGUMENT');
    expect(error?.message).toMatch(/4 x 2 holds 23 bytes, expected 24/);
    expect(imageError(rgb(0, 2))).toBeDefined();
  });

  it("sends the worker a copy of exactly the view's bytes, moved, and leaves the caller's buffer alone", () => {
    const backing = new Uint8Array(100).fill(7);
    const view = backing.subarray(10, 10 + 2 * 2 * 3);
    const job = { id: 3, image: { width: 2, height: 2, data: view }, returnProbabilities: false } as Job;
    const [message, transfer] = runRequest(job);
    expect(message).toMatchObject({ type: 'run', id: 3, width: 2, height: 2, returnProbabilities: false });
    expect(message.data.byteLength).toBe(12);
    expect(transfer).toEqual([message.data.buffer]);
    expect(message.data.buffer).not.toBe(backing.buffer);
  });

  it('answers once: an abort takes a queued job out of the queue, and a later result is dropped', async () => {
    const queue: Job[] = [];
    const controller = new AbortController();
    const request = { id: 1, image: rgb(1, 1), trace: undefined, preprocess: undefined, returnProbabilities: true };
    const answer = createJob<ProbabilityMap>({ ...request, signal: controller.signal }, queue, (job) =>
      queue.push(job),
    );
    const job = queue[0];
    expect(job.settled).toBe(false);
    controller.abort();
    await expect(answer).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(queue).toEqual([]);
    let ran = false;
    settle(job, () => (ran = true));
    expect(ran).toBe(false);
  });
});
