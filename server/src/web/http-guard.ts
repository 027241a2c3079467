/**
 * What every HTTP request passes before any route runs: exactly one Host header, the Host check (DNS rebinding),
 * a canonical path (see canonical-path.ts: the token decision and the routes read that one path), the CORS grant
 * for its Origin (an allowlist, never `*`), the preflight answer, and the bearer token. Static viewer files stay
 * open (a browser must load the page before it can send a token); tiles, annotations, gRPC-Web and metrics do not.
 */
import type http from 'node:http';
import { cors } from '@connectrpc/connect';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { BearerTokens } from '../security/bearer-tokens.js';
import type { CorsPolicy } from '../security/cors-policy.js';
import { singleHostHeader, type HostCheck } from '../security/host-check.js';
import { canonicalPath } from './canonical-path.js';
import { grpcStatusOf, httpStatusOf } from '@glomseg/api/error-codes.js';

/** Header names, without case-insensitive duplicates. */
function headerList(...names: readonly string[]): string {
  return [...new Map(names.map((name) => [name.toLowerCase(), name])).values()].join(', ');
}

const CORS_GRANT_HEADERS = {
  'access-control-allow-methods': headerList(...cors.allowedMethods, 'GET', 'OPTIONS'),
  // connect's lists already hold the gRPC-Web ones; named here too so the contract is visible.
  'access-control-allow-headers': headerList(
    ...cors.allowedHeaders,
    'Content-Type',
    'X-Grpc-Web',
    'X-User-Agent',
    'Grpc-Timeout',
    'Authorization',
  ),
  'access-control-expose-headers': headerList(
    ...cors.exposedHeaders,
    'Grpc-Status',
    'Grpc-Message',
    'Grpc-Status-Details-Bin',
    'Content-Disposition',
  ),
  'access-control-max-age': '7200',
};

export interface HttpGuardOptions {
  hosts: HostCheck;
  cors: CorsPolicy;
  tokens?: BearerTokens;
  /** Paths served without a token. */
  isOpenPath: (pathname: string) => boolean;
}

function refuse(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  error: GlomsegError,
  extra: Record<string, string> = {},
): undefined {
  const grpcWeb = (request.headers['content-type'] ?? '').startsWith('application/grpc-web');
  // gRPC-Web clients read the status from headers on a non-200 answer as well.
  const grpcHeaders = grpcWeb
    ? { 'grpc-status': String(grpcStatusOf(error.code)), 'grpc-message': encodeURIComponent(error.message) }
    : {};
  response.writeHead(httpStatusOf(error.code), {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...grpcHeaders,
    ...extra,
  });
  response.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
  return undefined;
}

/**
 * The request's canonical path when it may go on to the routes (route by this path, never by another parse of
 * `request.url`); undefined when it may not, and the answer has been sent.
 */
export function guardRequest(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  options: HttpGuardOptions,
): string | undefined {
  let pathname: string;
  try {
    const host = singleHostHeader(request.rawHeaders);
    if (!options.hosts.allows(host)) {
      return refuse(
        request,
        response,
        new GlomsegError('PERMISSION_DENIED', `this server does not answer to the host name '${host ?? ''}'`),
      );
    }
    pathname = canonicalPath(request.url);
  } catch (error) {
    // Both checks throw only GlomsegError (INVALID_ARGUMENT: 400).
    return refuse(request, response, error as GlomsegError);
  }
  const origin = request.headers.origin;
  const granted = options.cors.grant(typeof origin === 'string' ? origin : undefined);
  response.setHeader('vary', 'Origin');
  if (granted) {
    response.setHeader('access-control-allow-origin', granted);
    for (const [name, value] of Object.entries(CORS_GRANT_HEADERS)) response.setHeader(name, value);
  }
  if (request.method === 'OPTIONS') {
    // A preflight never carries credentials; without a grant the browser stops here.
    response.writeHead(granted ? 204 : 403).end();
    return undefined;
  }
  if (options.tokens) {
    if (!options.isOpenPath(pathname) && !options.tokens.accepts(request.headers.authorization)) {
      return refuse(
        request,
        response,
        new GlomsegError('UNAUTHENTICATED', 'a valid bearer token is required (Authorization: Bearer <token>)'),
        {
          'www-authenticate': 'Bearer realm="glomseg"',
        },
      );
    }
  }
  return pathname;
}
