/**
 * The HTTP edge for browsers: gRPC-Web for glomseg.v1.Glomseg (connect-node), the viewer page and plugin bundle,
 * viewer tiles of the slide pyramid and the demo slide's annotations. CORS lets a portal on another origin use it.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { Interceptor } from '@connectrpc/connect';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { createGlomsegServiceImpl } from '@glomseg/api/server/service-impl.js';
import { ensurePluginBundle } from './plugin-bundle.js';
import { handleHttp, isOpenPath, type ViewerRoutesOptions } from './viewer-routes.js';
import { guardRequest } from './http-guard.js';
import { withRequestCheck } from './grpc-web-request-check.js';
import { withByteBudget } from './grpc-web-byte-budget.js';
import { watchWriteStall } from './write-stall.js';
import { PipelinedRequests } from './pipelined-requests.js';
import { releaseWritersOnClose } from './release-on-close.js';
import { CorsPolicy } from '../security/cors-policy.js';
import { HostCheck, isWildcardHost } from '../security/host-check.js';
import { SocketGate, type SocketGateStats } from '../security/socket-gate.js';
import { DEFAULT_LIMITS } from '../validation/limits.js';
import { RequestByteBudget } from '../validation/request-byte-budget.js';

export { BUNDLE_PATH, type WebServerDemo } from './viewer-routes.js';

export interface WebServerOptions extends ViewerRoutesOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Folder holding glomseg-plugin.js; default plugin/dist, built on start when missing or stale. */
  staticRoot?: string;
  signal?: AbortSignal;
  /** Largest gRPC-Web request message after decompression; default DEFAULT_LIMITS.maxMessageBytes. */
  maxMessageBytes?: number;
  /** Request bytes in flight (shared with the gRPC port); default: DEFAULT_LIMITS.maxInFlightRequestBytes of its own. */
  requestBytes?: RequestByteBudget;
  /** Open sockets at most; default DEFAULT_MAX_CONNECTIONS (socket-gate.ts: at the cap the oldest untrusted socket is pushed out). */
  maxConnections?: number;
  /** Open sockets at most from one peer address (an IPv6 /64); default 256. */
  maxConnectionsPerPeer?: number;
  /** A socket must finish its TLS handshake and send its first request within this; default 10 s. */
  headersTimeoutMs?: number;
  /** A connection whose client takes none of its pending output for this long is reset; default DEFAULT_LIMITS.maxWriteStallMs. */
  writeStallMs?: number;
  /** connect interceptors around every gRPC-Web call (metrics). */
  interceptors?: Interceptor[];
}

export class WebServer {
  readonly url: string;
  private readonly server: http.Server;
  private readonly gate: SocketGate;

  private constructor(server: http.Server, gate: SocketGate, url: string) {
    this.server = server;
    this.gate = gate;
    this.url = url;
  }

  /** The HTTP port's sockets: open, trusted, timed out, evicted, refused, reset for not reading. */
  connectionStats(): SocketGateStats {
    return this.gate.stats();
  }

  static async start(options: WebServerOptions): Promise<WebServer> {
    throwIfAborted(options.signal);
    const staticRoot = options.staticRoot ?? path.dirname(await ensurePluginBundle(options.signal));
    // The guard's canonical path is the one the routes use. connect matches the raw `request.url`, which for an
    // accepted request is that same path (canonical paths are accepted as they are, never rewritten).
    const guardedPaths = new WeakMap<http.IncomingMessage, string>();
    const grpcWeb = grpcWebHandler(options, staticRoot, guardedPaths);
    const bindHost = options.host ?? '127.0.0.1';
    const guard = {
      hosts: new HostCheck(bindHost, options.security?.allowedHosts),
      cors: new CorsPolicy(options.security?.corsOrigins),
      tokens: options.security?.tokens,
      isOpenPath,
    };
    // Pipelined requests one at a time per connection (pipelined-requests.ts: queued gRPC-Web replies were never ended).
    const pipelined = new PipelinedRequests();
    const handler = (request: http.IncomingMessage, response: http.ServerResponse) =>
      pipelined.inTurn(request, response, () => {
        releaseWritersOnClose(response);
        const pathname = guardRequest(request, response, guard);
        if (pathname === undefined) return;
        // Past the guard (a valid token, an open path, or no tokens configured): a real client, never pushed out.
        gate.trust(request.socket);
        guardedPaths.set(request, pathname);
        grpcWeb(request, response);
      });
    const tls = options.security?.tls;
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    const server = createHttpServer(options, headersTimeout, handler);
    // The same admission as the gRPC port, instead of server.maxConnections (which only refuses, so silent sockets
    // held the port): the first request must come within the header timeout (Node's own starts with the first
    // byte), and at the cap the oldest socket that has not passed the guard is pushed out. A request lifts the
    // timeout; keep-alive sockets then have keepAliveTimeout and a half-sent request Node's header timeout.
    const gate = new SocketGate({
      maxConnections: options.maxConnections,
      maxPerPeer: options.maxConnectionsPerPeer,
      firstRequestTimeoutMs: headersTimeout,
    });
    server.on('connection', (socket: net.Socket) => gate.admit(socket));
    resetStalledClients(server, gate, options);
    server.on('request', (request: http.IncomingMessage) => gate.markActive(request.socket));
    await listen(server, options.port ?? 0, bindHost);
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new GlomsegError('INTERNAL', 'the web server has no TCP address');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const scheme = tls ? 'https' : 'http';
    // A wildcard bind is reached locally through loopback; the log says what is really listening.
    const webServer = new WebServer(
      server,
      gate,
      `${scheme}://${isWildcardHost(address.address) ? '127.0.0.1' : host}:${address.port}`,
    );
    options.signal?.addEventListener('abort', () => void webServer.close(), { once: true });
    const where = isWildcardHost(address.address)
      ? `${scheme}://${host}:${address.port} (every interface)`
      : webServer.url;
    options.log?.(`viewer and gRPC-Web listening on ${where}${guard.tokens ? ', bearer token required' : ''}`);
    return webServer;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    // Sockets the HTTP server never saw a request on (silent, mid-TLS-handshake) would hold close() open.
    this.gate.dropAll();
    await closed;
  }
}

/** Streams stay open for minutes (no request timeout); a socket must send its headers in time (silent sockets). */
function createHttpServer(
  options: WebServerOptions,
  headersTimeout: number,
  handler: http.RequestListener,
): http.Server {
  const tls = options.security?.tls;
  const serverOptions: http.ServerOptions = {
    requestTimeout: 0,
    headersTimeout,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, headersTimeout / 4)),
  };
  if (!tls) return http.createServer(serverOptions, handler);
  return https.createServer(
    {
      ...serverOptions,
      cert: tls.cert,
      key: tls.key,
      ca: tls.clientCa,
      requestCert: tls.clientCa !== undefined,
      rejectUnauthorized: tls.clientCa !== undefined,
      handshakeTimeout: headersTimeout,
    },
    handler,
  );
}

/**
 * A client that stops reading holds its reply and the work behind it (a gRPC-Web stream) until reset. The socket
 * watched is the one the HTTP server writes to (the TLS socket under TLS); the gate resets its TCP socket.
 */
function resetStalledClients(server: http.Server, gate: SocketGate, options: WebServerOptions): void {
  const writeStallMs = options.writeStallMs ?? DEFAULT_LIMITS.maxWriteStallMs;
  server.on(options.security?.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    if (socket.destroyed) return;
    watchWriteStall(socket, writeStallMs, () => {
      options.log?.(
        `HTTP client ${socket.remoteAddress}: took no data for ${writeStallMs / 1000} s; its connection is reset and its calls stopped`,
      );
      if (!gate.dropStalled(socket)) socket.destroy();
    });
  });
}

/** gRPC-Web on the same ServiceImpl the gRPC server serves; anything else goes to the viewer's routes. */
function grpcWebHandler(
  options: WebServerOptions,
  staticRoot: string,
  guardedPaths: WeakMap<http.IncomingMessage, string>,
) {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes;
  return connectNodeAdapter({
    // The same ServiceImpl the gRPC server serves (connect's router takes it as is).
    routes: withByteBudget(
      withRequestCheck(
        (router) => router.service(Glomseg, createGlomsegServiceImpl(options.service, options.log)),
        maxMessageBytes,
      ),
      options.requestBytes ?? new RequestByteBudget(DEFAULT_LIMITS.maxInFlightRequestBytes),
      maxMessageBytes,
    ),
    // Per message and after decompression: a small gzip body cannot expand past it (a gzip bomb).
    readMaxBytes: maxMessageBytes,
    interceptors: options.interceptors,
    grpcWeb: true,
    grpc: false,
    connect: false,
    fallback: (request, response) => {
      void handleHttp(
        request as http.IncomingMessage,
        response as http.ServerResponse,
        guardedPaths.get(request as http.IncomingMessage) ?? '',
        options,
        staticRoot,
      );
    },
  });
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
