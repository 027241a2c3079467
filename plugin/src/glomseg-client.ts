/** The browser's client for the glomseg server: gRPC-Web (binary) over fetch, so any gRPC-Web proxy works too. */
import { Code, ConnectError, createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { statusName } from '@glomseg/api/error-codes.js';
import type { ErrorEventDetail } from './events.js';

export type GlomsegClient = Client<typeof Glomseg>;

/**
 * Headers sent with every call (e.g. authorization for a server or proxy that needs it): fixed, or a function asked
 * before each call (a token provider that refreshes tokens).
 */
export type RequestHeaders = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);

/** The headers to send now: asks a token provider, copies fixed headers. */
export async function resolveHeaders(headers?: RequestHeaders): Promise<Record<string, string>> {
  return { ...(typeof headers === 'function' ? await headers() : headers) };
}

/** Headers that carry `Authorization: Bearer <token>` from a token provider (asked before each call and each tile). */
export function bearerToken(token: () => string | Promise<string>): RequestHeaders {
  return async (): Promise<Record<string, string>> => {
    const value = await token();
    return value ? { authorization: `Bearer ${value}` } : {};
  };
}

const clients = new Map<string, GlomsegClient>();
const clientsWithHeaders = new WeakMap<object, Map<string, GlomsegClient>>();

function baseUrlOf(serverUrl: string): string {
  return new URL(serverUrl || '/', globalThis.location?.href ?? 'http://localhost/').href.replace(/\/$/, '');
}

function createGlomsegClient(baseUrl: string, headers?: RequestHeaders): GlomsegClient {
  const interceptors: Interceptor[] = headers
    ? [
        (next) => async (request) => {
          for (const [name, value] of Object.entries(await resolveHeaders(headers))) request.header.set(name, value);
          return next(request);
        },
      ]
    : [];
  return createClient(Glomseg, createGrpcWebTransport({ baseUrl, useBinaryFormat: true, interceptors }));
}

/** One client per server URL ('' means the page's own origin) and headers. */
export function glomsegClient(serverUrl: string, headers?: RequestHeaders): GlomsegClient {
  const baseUrl = baseUrlOf(serverUrl);
  const cache = headers
    ? (clientsWithHeaders.get(headers) ?? clientsWithHeaders.set(headers, new Map()).get(headers)!)
    : clients;
  let client = cache.get(baseUrl);
  if (!client) {
    client = createGlomsegClient(baseUrl, headers);
    cache.set(baseUrl, client);
  }
  return client;
}

/** Absolute base URL for plain HTTP requests (viewer tiles) to the same server. */
export function serverBaseUrl(serverUrl: string): string {
  return baseUrlOf(serverUrl);
}

/** An error as something a person can read, with the gRPC status name. */
export function describeError(error: unknown, serverUrl: string): ErrorEventDetail {
  const connectError = ConnectError.from(error);
  if (
    connectError.code === Code.Unavailable ||
    (connectError.code === Code.Unknown && /fetch|network/i.test(connectError.rawMessage))
  ) {
    return {
      code: 'UNAVAILABLE',
      message: `The glomseg server at ${serverBaseUrl(serverUrl)} cannot be reached (${connectError.rawMessage}).`,
    };
  }
  return { code: statusName(connectError.code), message: connectError.rawMessage };
}

export function isAbort(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Canceled;
}
