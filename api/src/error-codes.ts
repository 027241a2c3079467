/**
 * The one place where glomseg error codes become wire statuses. gRPC and gRPC-Web share the numeric status codes
 * (connect's `Code` uses the same numbers); HTTP routes get the nearest HTTP status.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { GlomsegError, isGlomsegError, type ErrorCode } from '@glomseg/shared/errors.js';

const GRPC_STATUS: Record<ErrorCode, number> = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  PERMISSION_DENIED: 7,
};

const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  FAILED_PRECONDITION: 422,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  DEADLINE_EXCEEDED: 504,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  INTERNAL: 500,
};

export function grpcStatusOf(code: ErrorCode): number {
  return GRPC_STATUS[code];
}

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/**
 * Any thrown value as a GlomsegError. Anything that is not one is a bug: it becomes INTERNAL with a plain message
 * (no internals leak to clients) and its detail goes to the log.
 */
export function asGlomsegError(error: unknown, log?: (message: string) => void): GlomsegError {
  if (isGlomsegError(error)) return error;
  log?.(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new GlomsegError('INTERNAL', 'internal server error (see the server log)', { cause: error });
}

/** A GlomsegError (or anything thrown) as the ConnectError every protocol sends: status number and message. */
export function toConnectError(error: unknown, log?: (message: string) => void): ConnectError {
  if (error instanceof ConnectError) return error;
  const glomsegError = asGlomsegError(error, log);
  // connect's Code enum uses the gRPC status numbers.
  return new ConnectError(glomsegError.message, grpcStatusOf(glomsegError.code) as Code, undefined, undefined, error);
}

const CODE_NAMES = new Map<number, string>([
  ...Object.entries(GRPC_STATUS).map(([name, status]) => [status, name] as const),
  [2, 'UNKNOWN'],
  [6, 'ALREADY_EXISTS'],
  [11, 'OUT_OF_RANGE'],
  [15, 'DATA_LOSS'],
]);

/** The gRPC status name of a number (as grpcurl and the gRPC docs spell it). */
export function statusName(code: number): string {
  return CODE_NAMES.get(code) ?? String(code);
}

/** A failed call as people read it: "NOT_FOUND: slide 'x' is not served here". */
export function describeCallError(error: unknown): string {
  if (error instanceof ConnectError) return `${statusName(error.code)}: ${error.rawMessage}`;
  return error instanceof Error ? error.message : String(error);
}
