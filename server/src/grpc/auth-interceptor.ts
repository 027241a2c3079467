/**
 * Refuses every call without a known bearer token in its `authorization` metadata with UNAUTHENTICATED, before
 * the handler runs; health checking stays open for probes. Reflection and glomseg.v1 are both covered.
 */
import * as grpc from '@grpc/grpc-js';
import type { BearerTokens } from '../security/bearer-tokens.js';
import { OPEN_GRPC_SERVICES } from '../security/serving-security.js';

function isOpen(path: string): boolean {
  return OPEN_GRPC_SERVICES.some((service) => path.startsWith(`/${service}/`));
}

export function authInterceptor(tokens: BearerTokens): grpc.ServerInterceptor {
  return (method, call) => {
    if (isOpen(method.path)) return new grpc.ServerInterceptingCall(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const [value] = metadata.get('authorization');
        if (tokens.accepts(typeof value === 'string' ? value : value?.toString('utf8'))) next(metadata);
        else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'a valid bearer token is required (authorization: Bearer <token>)' });
      })
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
