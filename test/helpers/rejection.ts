/** The coded error a promise rejects with; fails the test if it resolves or rejects with anything else. */
import { expect } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';

export async function rejection(promise: Promise<unknown>): Promise<GlomsegError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a rejection with a GlomsegError').toBeInstanceOf(GlomsegError);
  return error as GlomsegError;
}
