/**
 * The app's two ports: the native gRPC server (with its plaintext health port) and the HTTP server (viewer, slide
 * tiles, gRPC-Web, /metrics), with a port already taken said in words that name the flag to change.
 */
import type { DomainGlomsegService } from './service/glomseg-service.js';
import { GrpcServer, type GrpcConnectionOptions } from './grpc/grpc-server.js';
import { WebServer } from './web/web-server.js';
import type { SlideCatalog } from './slides/index.js';
import type { ServingSecurity } from './security/serving-security.js';
import type { ServingLimits } from './validation/limits.js';
import type { RequestByteBudget } from './validation/request-byte-budget.js';
import { METRICS_CONTENT_TYPE, type ServerMetrics } from './metrics/server-metrics.js';

/** What the ports are told by the app's options. */
export interface PortOptions {
  host?: string;
  grpcPort?: number;
  /** A plaintext port serving only grpc.health.v1, for probes that speak no TLS (grpc/health-port.ts). */
  healthPort?: number;
  httpHost?: string;
  /** Demo shown at / : a slide and the URL-less path of its ground truth. */
  demo?: { slideId: string; annotationsPath?: string };
  /** Tokens, TLS, CORS origins and host names for both ports. */
  security?: ServingSecurity;
  connections?: GrpcConnectionOptions;
}

/** What the ports serve and share. */
export interface ServingCore {
  service: DomainGlomsegService;
  catalog: SlideCatalog;
  limits: ServingLimits;
  /** One budget of request bytes in flight for both ports. */
  requestBytes: RequestByteBudget;
  metrics: ServerMetrics;
  log: (message: string) => void;
}

/** The gRPC port (and the health port when asked for). */
export function startGrpcServer(options: PortOptions, core: ServingCore): Promise<GrpcServer> {
  const { service, limits, requestBytes, metrics, log } = core;
  return GrpcServer.start({
    service,
    host: options.host,
    port: options.grpcPort,
    log,
    security: options.security,
    maxMessageBytes: limits.maxMessageBytes,
    writeStallMs: limits.maxWriteStallMs,
    requestBytes,
    connections: options.connections,
    healthPort: options.healthPort,
    interceptors: [metrics.grpcInterceptor()],
  }).catch((error) => {
    throw portInUse(error, 'gRPC', options.host ?? '127.0.0.1', options.grpcPort, '--port');
  });
}

/** The HTTP port: the viewer, slide tiles, gRPC-Web and /metrics. */
export async function startWebServer(options: PortOptions, port: number, core: ServingCore): Promise<WebServer> {
  const { service, catalog, limits, requestBytes, metrics, log } = core;
  // The demo slide is named by file; its id depends on how many slide folders are served.
  const demo = options.demo && {
    ...options.demo,
    slideId: resolveDemoSlideId(await catalog.list(), options.demo.slideId, log),
  };
  return WebServer.start({
    service,
    host: options.httpHost ?? options.host ?? '127.0.0.1',
    port,
    demo,
    log,
    security: options.security,
    maxMessageBytes: limits.maxMessageBytes,
    requestBytes,
    maxConnections: options.connections?.maxConnections,
    maxConnectionsPerPeer: options.connections?.maxConnectionsPerPeer,
    headersTimeoutMs: options.connections?.handshakeTimeoutMs,
    writeStallMs: limits.maxWriteStallMs,
    interceptors: [metrics.connectInterceptor()],
    extraRoutes: async (request, response, pathname) => {
      if (pathname !== '/metrics' || request.method !== 'GET') return false;
      response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' });
      response.end(await metrics.render());
      return true;
    },
  }).catch((error) => {
    throw portInUse(error, 'HTTP', options.httpHost ?? options.host ?? '127.0.0.1', port, '--http-port');
  });
}

/** A bind failure because the port is taken, in words that say which port and what to do; other errors as they are. */
function portInUse(error: unknown, what: string, host: string, port: number | undefined, flag: string): unknown {
  const text = `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? ''}`;
  if (!/EADDRINUSE|address already in use/i.test(text)) return error;
  return new Error(
    `the ${what} port ${port} on ${host} is already in use (another glomseg serve?): stop that server or pick another port with ${flag}`,
  );
}

function resolveDemoSlideId(slides: Array<{ id: string }>, wanted: string, log: (m: string) => void): string {
  const match = slides.find((s) => s.id === wanted) ?? slides.find((s) => s.id.endsWith(`/${wanted}`));
  if (!match) log(`demo slide ${wanted} is not in the slide folders; the viewer opens without it`);
  return match?.id ?? wanted;
}
