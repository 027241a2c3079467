/** What the two edges (gRPC and HTTP) enforce: tokens, TLS, allowed web origins and host names. */
import type { BearerTokens } from './bearer-tokens.js';
import type { TlsMaterial } from './tls-files.js';

export interface ServingSecurity {
  /** Without tokens every caller is let in (loopback development). */
  tokens?: BearerTokens;
  tls?: TlsMaterial;
  /** Browser origins granted CORS; default: loopback origins only. */
  corsOrigins?: string[];
  /** Host names (beyond loopback and the bind address) the HTTP edge answers to. */
  allowedHosts?: string[];
}

/** Services open without a token: orchestrator probes must not need a secret. */
export const OPEN_GRPC_SERVICES = ['grpc.health.v1.Health'] as const;
