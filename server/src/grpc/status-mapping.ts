/** GlomsegError -> the status object @grpc/grpc-js sends. */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { asGlomsegError, grpcStatusOf } from '../protocol/error-codes.js';

export function toGrpcError(error: unknown, log?: (message: string) => void): Partial<ServiceError> {
  const glomsegError = asGlomsegError(error, log);
  return { code: grpcStatusOf(glomsegError.code), details: glomsegError.message, metadata: new Metadata() };
}
