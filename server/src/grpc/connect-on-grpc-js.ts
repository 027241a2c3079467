/**
 * Serves a connect ServiceImpl (api/src/server/service-impl.ts) with @grpc/grpc-js, for any service descriptor: the same
 * implementation connect's router serves over gRPC-Web and Connect. What grpc-js adds (connection gate, drain,
 * keepalive, interceptors, reflection) stays with grpc-js; what a method does stays in the ServiceImpl.
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { create, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { createHandlerContext, type HandlerContext } from '@connectrpc/connect';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { toConnectError } from '@glomseg/api/error-codes.js';
import { headersFromMetadata } from './metadata-headers.js';

type Log = (message: string) => void;
/** A ServiceImpl seen from outside its types: grpc-js hands us decoded requests of the method's input type. */
type AnyImpl = Record<string, ((request: unknown, context: HandlerContext) => unknown) | undefined>;

function statusOf(error: unknown, log: Log): Partial<grpc.ServiceError> {
  const connectError = toConnectError(error, log);
  return {
    code: connectError.code as number as grpc.status,
    details: connectError.rawMessage,
    metadata: new grpc.Metadata(),
  };
}

/** A handler context whose signal aborts, with a coded CANCELLED, when the client cancels. */
function contextFor(
  service: DescService,
  method: DescMethod,
  call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
) {
  const context = createHandlerContext({
    service,
    method,
    protocolName: 'grpc',
    requestMethod: 'POST',
    url: `/${service.typeName}/${method.name}`,
    requestHeader: headersFromMetadata(call.metadata),
  });
  const onCancel = () => context.abort(new GlomsegError('CANCELLED', 'the client cancelled the call'));
  call.on('cancelled', onCancel);
  return { context, release: () => call.off('cancelled', onCancel) };
}

function unaryHandler(service: DescService, method: DescMethod, impl: NonNullable<AnyImpl[string]>, log: Log) {
  return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const { context, release } = contextFor(service, method, call);
    Promise.resolve()
      .then(() => impl(call.request, context))
      .then(
        (response) => callback(null, create(method.output, response as Record<string, unknown>)),
        (error) => callback(statusOf(error, log) as grpc.ServiceError),
      )
      .finally(release);
  };
}

/** Pulls the implementation's stream one message at a time, so a slow client slows the work (backpressure). */
function serverStreamHandler(service: DescService, method: DescMethod, impl: NonNullable<AnyImpl[string]>, log: Log) {
  return async (call: grpc.ServerWritableStream<unknown, unknown>) => {
    const { context, release } = contextFor(service, method, call);
    const { signal } = context;
    try {
      for await (const message of impl(call.request, context) as AsyncIterable<unknown>) {
        if (signal.aborted) break;
        if (!call.write(create(method.output, message as Record<string, unknown>))) {
          await Promise.race([once(call, 'drain'), once(signal, 'abort')]);
        }
      }
      if (!signal.aborted) call.end();
    } catch (error) {
      if (!signal.aborted) call.emit('error', statusOf(error, log));
    } finally {
      release();
    }
  };
}

/** grpc-js handlers, keyed by method name, for every unary and server-streaming method `impl` implements. */
export function grpcJsHandlers(
  service: DescService,
  impl: object,
  log: Log = () => {},
): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  const methods = impl as AnyImpl;
  for (const method of service.methods) {
    const body = methods[method.localName];
    if (!body) continue;
    if (method.methodKind === 'unary') handlers[method.name] = unaryHandler(service, method, body, log);
    else if (method.methodKind === 'server_streaming')
      handlers[method.name] = serverStreamHandler(service, method, body, log);
    else
      throw new Error(
        `${service.typeName}.${method.name}: ${method.methodKind} methods are not served over grpc-js yet`,
      );
  }
  return handlers;
}
