/** The one place where glomseg error codes become gRPC status codes. */
import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { GlomsegError, type ErrorCode } from '@glomseg/shared/errors.js';

const CODE_TO_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  CANCELLED: status.CANCELLED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  UNAVAILABLE: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

export function toGrpcError(error: unknown, log?: (message: string) => void): Partial<ServiceError> {
  if (error instanceof GlomsegError) {
    return { code: CODE_TO_STATUS[error.code], details: error.message, metadata: new Metadata() };
  }
  // Anything else is a bug: say so plainly without leaking internals, and keep the detail in the log.
  log?.(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { code: status.INTERNAL, details: 'internal server error (see the server log)', metadata: new Metadata() };
}
