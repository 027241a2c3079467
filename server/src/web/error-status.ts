/** GlomsegError -> the ConnectError the gRPC-Web handler sends as grpc-status / grpc-message. */
import { Code, ConnectError } from '@connectrpc/connect';
import { asGlomsegError, grpcStatusOf } from '../protocol/error-codes.js';

export function toConnectError(error: unknown, log?: (message: string) => void): ConnectError {
  if (error instanceof ConnectError) return error;
  const glomsegError = asGlomsegError(error, log);
  // connect's Code enum uses the gRPC status numbers.
  return new ConnectError(glomsegError.message, grpcStatusOf(glomsegError.code) as Code, undefined, undefined, error);
}
