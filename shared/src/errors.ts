/**
 * The one coded error type of glomseg. Domain code throws it; each protocol edge (gRPC, gRPC-Web, CLI)
 * maps the code to its own status in one place.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  /** A read-modify-write lost to another writer (a save on a version that is no longer the latest). */
  | 'ABORTED'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'INTERNAL';

export class GlomsegError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GlomsegError';
    this.code = code;
  }
}

export function isGlomsegError(value: unknown): value is GlomsegError {
  return value instanceof GlomsegError;
}

/** The error to throw when an AbortSignal fired. */
export function cancelledError(signal?: AbortSignal): GlomsegError {
  const reason = signal?.reason;
  if (reason instanceof GlomsegError) return reason;
  const detail = reason instanceof Error ? reason.message : reason ? String(reason) : 'the request was cancelled';
  return new GlomsegError('CANCELLED', detail);
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelledError(signal);
}

/** `promise`, or its signal's reason as soon as the signal aborts (the work itself goes on for other callers). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelledError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelledError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
