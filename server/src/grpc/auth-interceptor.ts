/**
 * Refuses every call without a known bearer token in its `authorization` metadata with UNAUTHENTICATED, before
 * the handler runs; health checking stays open for probes. Reflection and glomseg.v1 are both covered.
 * `onAuthenticated` hears of each call whose token was accepted (a health call that carries a valid token
 * included): the connection gate trusts only those connections.
 */
import * as grpc from '@grpc/grpc-js';
import type { BearerTokens } from '../security/bearer-tokens.js';
import { OPEN_GRPC_SERVICES } from '../security/serving-security.js';

function isOpen(path: string): boolean {
  return OPEN_GRPC_SERVICES.some((service) => path.startsWith(`/${service}/`));
}

export function authInterceptor(
  tokens: BearerTokens,
  onAuthenticated: (call: grpc.ServerInterceptingCallInterface) => void = () => undefined,
): grpc.ServerInterceptor {
  return (method, call) => {
    const open = isOpen(method.path);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const [value] = metadata.get('authorization');
        const accepted =
          value !== undefined && tokens.accepts(typeof value === 'string' ? value : value.toString('utf8'));
        if (accepted) onAuthenticated(call);
        if (accepted || open) next(metadata);
        else
          call.sendStatus({
            code: grpc.status.UNAUTHENTICATED,
            details: 'a valid bearer token is required (authorization: Bearer <token>)',
          });
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}
