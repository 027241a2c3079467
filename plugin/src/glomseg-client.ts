/** The browser's client for the glomseg server: gRPC-Web (binary) over fetch, so any gRPC-Web proxy works too. */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { Glomseg } from '../../gen/glomseg/v1/glomseg_pb.js';
import type { ErrorEventDetail } from './events.js';

export type GlomsegClient = Client<typeof Glomseg>;

const clients = new Map<string, GlomsegClient>();

/** One client per server URL ('' means the page's own origin). */
export function glomsegClient(serverUrl: string): GlomsegClient {
  const baseUrl = new URL(serverUrl || '/', globalThis.location?.href ?? 'http://localhost/').href.replace(/\/$/, '');
  let client = clients.get(baseUrl);
  if (!client) {
    client = createClient(Glomseg, createGrpcWebTransport({ baseUrl, useBinaryFormat: true }));
    clients.set(baseUrl, client);
  }
  return client;
}

/** Absolute base URL for plain HTTP requests (viewer tiles) to the same server. */
export function serverBaseUrl(serverUrl: string): string {
  return new URL(serverUrl || '/', globalThis.location?.href ?? 'http://localhost/').href.replace(/\/$/, '');
}

/** An error as something a person can read, with the gRPC status name. */
export function describeError(error: unknown, serverUrl: string): ErrorEventDetail {
  const connectError = ConnectError.from(error);
  const code = Code[connectError.code] ?? 'Unknown';
  const name = code.replace(/[A-Z]/g, (c, i) => (i > 0 ? '_' : '') + c).toUpperCase();
  if (connectError.code === Code.Unavailable || connectError.code === Code.Unknown && /fetch|network/i.test(connectError.rawMessage)) {
    return { code: 'UNAVAILABLE', message: `The glomseg server at ${serverBaseUrl(serverUrl)} cannot be reached (${connectError.rawMessage}).` };
  }
  return { code: name, message: connectError.rawMessage };
}

export function isAbort(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Canceled;
}
