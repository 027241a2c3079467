/**
 * The HTTP edge for browsers: gRPC-Web for glomseg.v1.Glomseg (connect-node), the viewer page and plugin bundle,
 * viewer tiles of the slide pyramid and the demo slide's annotations. CORS lets a portal on another origin use it.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { Interceptor } from '@connectrpc/connect';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { GlomsegService } from '@glomseg/shared/glomseg-service.js';
import { asGlomsegError, httpStatusOf } from '@glomseg/api/error-codes.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { createGlomsegServiceImpl } from '@glomseg/api/server/service-impl.js';
import { checkViewerTile } from '@glomseg/api/server/request-checks.js';
import { ensurePluginBundle } from './plugin-bundle.js';
import { viewerPageHtml } from './viewer-page.js';
import { decodePathSegment } from './path-segment.js';
import { guardRequest } from './http-guard.js';
import { withRequestCheck } from './grpc-web-request-check.js';
import { withByteBudget } from './grpc-web-byte-budget.js';
import { watchWriteStall } from './write-stall.js';
import { PipelinedRequests } from './pipelined-requests.js';
import { releaseWritersOnClose } from './release-on-close.js';
import { CorsPolicy } from '../security/cors-policy.js';
import { HostCheck, isWildcardHost } from '../security/host-check.js';
import { SocketGate, type SocketGateStats } from '../security/socket-gate.js';
import type { ServingSecurity } from '../security/serving-security.js';
import { DEFAULT_LIMITS } from '../validation/limits.js';
import { RequestByteBudget } from '../validation/request-byte-budget.js';

export interface WebServerDemo {
  /** Slide the page at `/` opens. */
  slideId: string;
  /** Ground-truth file on disk, served read-only at /api/demo/annotations. */
  annotationsPath?: string;
  /** URL the page loads annotations from; defaults to /api/demo/annotations when annotationsPath is set. */
  annotationsUrl?: string;
}

export interface WebServerOptions {
  service: GlomsegService;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Folder holding glomseg-plugin.js; default plugin/dist, built on start when missing or stale. */
  staticRoot?: string;
  demo?: WebServerDemo;
  log?: (message: string) => void;
  signal?: AbortSignal;
  security?: ServingSecurity;
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
  /** Extra plain routes (e.g. /metrics), tried before the built-in ones; true when handled. */
  extraRoutes?: (request: http.IncomingMessage, response: http.ServerResponse, pathname: string) => Promise<boolean>;
}

export const BUNDLE_PATH = '/plugin/glomseg-plugin.js';
const TILE_ROUTE = /^\/api\/slides\/([^/]+)\/tiles\/(\d+)\/(\d+)\/(\d+)$/;
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
function sendJsonError(response: http.ServerResponse, error: unknown, log?: (message: string) => void): void {
  const glomsegError = asGlomsegError(error, log);
  if (response.headersSent) {
    response.destroy(glomsegError);
    return;
  }
  const body = JSON.stringify({ error: { code: glomsegError.code, message: glomsegError.message } });
  response.writeHead(httpStatusOf(glomsegError.code), {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  });
  response.end(body);
}

/** An AbortSignal that fires when the client goes away before the response is finished. */
function clientSignal(request: http.IncomingMessage, response: http.ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(new GlomsegError('CANCELLED', 'the browser closed the request'));
  });
  return controller.signal;
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
      isOpenPath: (pathname: string) =>
        pathname === '/' || pathname === '/index.html' || pathname.startsWith('/plugin/'),
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
    // Streams stay open for minutes (no request timeout); a socket must send its headers in time (silent sockets).
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    const serverOptions: http.ServerOptions = {
      requestTimeout: 0,
      headersTimeout,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, headersTimeout / 4)),
    };
    const server: http.Server = tls
      ? https.createServer(
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
        )
      : http.createServer(serverOptions, handler);
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
    // A client that stops reading holds its reply and the work behind it (a gRPC-Web stream) until reset. The socket
    // watched is the one the HTTP server writes to (the TLS socket under TLS); the gate resets its TCP socket.
    const writeStallMs = options.writeStallMs ?? DEFAULT_LIMITS.maxWriteStallMs;
    server.on(tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
      if (socket.destroyed) return;
      watchWriteStall(socket, writeStallMs, () => {
        options.log?.(
          `HTTP client ${socket.remoteAddress}: took no data for ${writeStallMs / 1000} s; its connection is reset and its calls stopped`,
        );
        if (!gate.dropStalled(socket)) socket.destroy();
      });
    });
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

/** `pathname`: the guard's canonical path (see canonical-path.ts), never a parse of `request.url` of our own. */
async function handleHttp(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  pathname: string,
  options: WebServerOptions,
  staticRoot: string,
): Promise<void> {
  try {
    if (options.extraRoutes && (await options.extraRoutes(request, response, pathname))) return;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new GlomsegError('INVALID_ARGUMENT', `${request.method} is not supported on ${pathname}`);
    }
    if (pathname === '/' || pathname === '/index.html') {
      const demo = options.demo;
      const annotationsUrl = demo?.annotationsUrl ?? (demo?.annotationsPath ? '/api/demo/annotations' : undefined);
      const html = viewerPageHtml({ bundleUrl: BUNDLE_PATH, slideId: demo?.slideId, annotationsUrl });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      response.end(html);
      return;
    }
    if (pathname.startsWith('/plugin/')) {
      await sendStaticFile(response, staticRoot, pathname.slice('/plugin/'.length));
      return;
    }
    const tileMatch = TILE_ROUTE.exec(pathname);
    if (tileMatch) {
      const [, encodedId, level, col, row] = tileMatch;
      const tile = await options.service.readViewerTile(
        checkViewerTile({
          slideId: decodePathSegment(encodedId),
          level: Number(level),
          col: Number(col),
          row: Number(row),
        }),
        clientSignal(request, response),
      );
      response.writeHead(200, {
        'content-type': tile.contentType,
        'content-length': tile.data.byteLength,
        // Behind a token a tile is the token holder's: no shared cache (a proxy) may hand it to anyone else.
        'cache-control': options.security?.tokens ? 'private, max-age=3600' : 'public, max-age=3600',
        'x-glomseg-passthrough': String(tile.passthrough),
      });
      response.end(tile.data);
      return;
    }
    if (pathname === '/api/demo/annotations') {
      const file = options.demo?.annotationsPath;
      if (!file) throw new GlomsegError('NOT_FOUND', 'this server was started without demo annotations');
      const content = await readFile(file);
      response.writeHead(200, {
        'content-type': 'application/geo+json',
        'content-disposition': `inline; filename="${path.basename(file).replace(/"/g, '')}"`,
        'cache-control': 'no-cache',
      });
      response.end(content);
      return;
    }
    throw new GlomsegError('NOT_FOUND', `nothing is served at ${pathname}`);
  } catch (error) {
    sendJsonError(response, error, options.log);
  }
}

async function sendStaticFile(response: http.ServerResponse, root: string, relative: string): Promise<void> {
  const file = path.resolve(root, decodePathSegment(relative));
  if (!file.startsWith(path.resolve(root) + path.sep)) throw new GlomsegError('NOT_FOUND', `no file ${relative}`);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new GlomsegError('NOT_FOUND', `no file ${relative} in the plugin bundle folder`);
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
  });
  createReadStream(file).pipe(response);
}
