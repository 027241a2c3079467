/** The one place where glomseg error codes become gRPC-Web (connect) status codes and HTTP statuses. */
import { Code, ConnectError } from '@connectrpc/connect';
import { GlomsegError, isGlomsegError, type ErrorCode } from '@glomseg/shared/errors.js';

const CONNECT_CODES: Record<ErrorCode, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  CANCELLED: Code.Canceled,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  UNIMPLEMENTED: Code.Unimplemented,
  UNAVAILABLE: Code.Unavailable,
  INTERNAL: Code.Internal,
};

const HTTP_STATUSES: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  FAILED_PRECONDITION: 422,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  DEADLINE_EXCEEDED: 504,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export function toConnectCode(code: ErrorCode): Code {
  return CONNECT_CODES[code];
}

export function toHttpStatus(code: ErrorCode): number {
  return HTTP_STATUSES[code];
}

/** Any thrown value as a GlomsegError; unknown errors become INTERNAL with their message kept. */
export function asGlomsegError(error: unknown): GlomsegError {
  if (isGlomsegError(error)) return error;
  if (error instanceof ConnectError && error.code === Code.Canceled) return new GlomsegError('CANCELLED', error.rawMessage);
  const message = error instanceof Error ? error.message : String(error);
  return new GlomsegError('INTERNAL', message, { cause: error });
}

/** Any thrown value as the ConnectError the gRPC-Web handler sends as grpc-status / grpc-message. */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const glomsegError = asGlomsegError(error);
  return new ConnectError(glomsegError.message, toConnectCode(glomsegError.code), undefined, undefined, error);
}
