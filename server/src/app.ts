/**
 * The glomseg server process: slide catalog, models, the domain service, the native gRPC server and the HTTP
 * server (viewer, slide tiles, gRPC-Web). One async factory, one close().
 */
import os from 'node:os';
import { SlideCatalog } from './slides/index.js';
import { ModelRegistry } from './inference/model-registry.js';
import { OnnxModelProvider } from './inference/model-provider.js';
import type { DeviceChoice } from './inference/onnx-segmenter.js';
import { createGlomsegService, type DomainGlomsegService } from './service/glomseg-service.js';
import { GrpcServer, type GrpcConnectionOptions } from './grpc/grpc-server.js';
import { WebServer } from './web/web-server.js';
import type { ServingSecurity } from './security/serving-security.js';
import { exposureWarning } from './security/exposure.js';
import { resolveLimits, type ServingLimits } from './validation/limits.js';
import { RequestByteBudget, type RequestByteStats } from './validation/request-byte-budget.js';
import { ScoringPool } from './scoring/scoring-pool.js';
import { METRICS_CONTENT_TYPE, ServerMetrics } from './metrics/server-metrics.js';

export interface GlomsegAppOptions {
  host?: string;
  grpcPort?: number;
  /** A plaintext port serving only grpc.health.v1, for probes that speak no TLS (grpc/health-port.ts). */
  healthPort?: number;
  /** HTTP port for the viewer and gRPC-Web; false: no HTTP server. */
  httpPort?: number | false;
  httpHost?: string;
  slideFolders: string[];
  /** Single slide files to serve as well (their folders stay closed): the CLI scoring files by path. */
  slideFiles?: string[];
  /** URL prefixes slides may be read from by URL id (see SlideUrlPolicy); none by default. */
  slideUrlPrefixes?: string[];
  modelFolder: string;
  device?: DeviceChoice;
  workers?: number;
  intraOpThreads?: number;
  /** ScoreSlide's tile edge in model pixels for every model; unset: each card's scoreTileSize, else its tileSize. */
  scoreTileSize?: number;
  /** Demo shown at / : a slide and the URL-less path of its ground truth. */
  demo?: { slideId: string; annotationsPath?: string };
  /** Load the default model at start (so the first request does not wait, and a bad model fails early). */
  warm?: boolean;
  log?: (message: string) => void;
  /** Tokens, TLS, CORS origins and host names for both ports. */
  security?: ServingSecurity;
  /** Cost bounds checked before work; defaults in validation/limits.ts. */
  limits?: Partial<ServingLimits>;
  connections?: GrpcConnectionOptions;
}

export class GlomsegApp {
  private constructor(
    readonly service: DomainGlomsegService,
    readonly grpcAddress: string,
    readonly httpUrl: string | undefined,
    private readonly parts: {
      catalog: SlideCatalog;
      models: OnnxModelProvider;
      scoring: ScoringPool;
      grpc: GrpcServer;
      web?: WebServer;
      metrics: ServerMetrics;
      requestBytes: RequestByteBudget;
    },
  ) {}

  static async start(options: GlomsegAppOptions): Promise<GlomsegApp> {
    const log = options.log ?? (() => {});
    const limits = resolveLimits(options.limits);
    const catalog = await SlideCatalog.create({
      folders: options.slideFolders,
      urlPrefixes: options.slideUrlPrefixes,
      limits,
    });
    for (const file of options.slideFiles ?? []) await catalog.addFile(file);
    const registry = await ModelRegistry.load({ folder: options.modelFolder, logger: log });
    // Worker count and threads default to the segmenter's own choice for the device it lands on.
    const models = new OnnxModelProvider({
      registry,
      device: options.device ?? 'auto',
      workers: options.workers,
      intraOpThreads: options.intraOpThreads,
      log,
    });
    // Enough tiles in flight that reading and decoding the next ones overlaps inference on every worker.
    const concurrency = (options.workers ?? Math.min(2, os.availableParallelism())) + 2;
    const scoring = await ScoringPool.create({ maxTaskMs: limits.maxTaskMs });
    // One budget of request bytes in flight for both ports.
    const requestBytes = new RequestByteBudget(limits.maxInFlightRequestBytes);
    const metrics = new ServerMetrics();
    const service = createGlomsegService({
      slides: catalog,
      models,
      scoring,
      concurrency,
      limits,
      scoreTileSize: options.scoreTileSize,
      onTileComputed: (t) => metrics.observeTile(t),
    });
    const cleanup: Array<() => Promise<void>> = [
      () => service.close(),
      () => scoring.close(),
      () => models.dispose(),
      () => catalog.close(),
    ];
    try {
      const warning = exposureWarning(
        [options.host ?? '127.0.0.1', options.httpHost ?? options.host ?? '127.0.0.1'],
        options.security,
      );
      if (warning) log(warning);
      // Ports first, the model after: a port in use is said at once, not after the model has loaded.
      const grpc = await GrpcServer.start({
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
      let web: WebServer | undefined;
      metrics.attach({
        service: () => service.stats(),
        connections: () => grpc.connectionStats(),
        httpConnections: () => web?.connectionStats(),
        requestBytes: () => requestBytes.stats(),
      });
      cleanup.unshift(() => grpc.close());
      if (options.httpPort !== false) {
        web = await startWebServer(options, options.httpPort ?? 0, {
          service,
          catalog,
          limits,
          requestBytes,
          metrics,
          log,
        });
        cleanup.unshift(() => web!.close());
      }
      if (options.warm) {
        const segmenter = await models.warm(registry.defaultModel().card.id);
        log(`model ${segmenter.card.id} ready on ${segmenter.device}`);
      }
      return new GlomsegApp(service, grpc.address, web?.url, {
        catalog,
        models,
        scoring,
        grpc,
        web,
        metrics,
        requestBytes,
      });
    } catch (error) {
      for (const step of cleanup) await step().catch(() => undefined);
      throw error;
    }
  }

  /** Prometheus text of this server's metrics (also served at /metrics on the HTTP port). */
  metricsText(): Promise<string> {
    return this.parts.metrics.render();
  }

  /** Request bytes in flight on both ports, against their budget (limits.maxInFlightRequestBytes). */
  requestByteStats(): RequestByteStats {
    return this.parts.requestBytes.stats();
  }

  /** The gRPC port's sockets: open, trusted, timed out, evicted, refused. */
  grpcConnections() {
    return this.parts.grpc.connectionStats();
  }

  /** The HTTP port's sockets (undefined without an HTTP server): open, trusted, timed out, evicted, refused. */
  httpConnections() {
    return this.parts.web?.connectionStats();
  }

  /** Drains the gRPC server (see grpc/drain.ts) for up to `graceMs`, then closes everything. */
  async close(graceMs?: number): Promise<void> {
    await this.parts.web?.close();
    await this.parts.grpc.close(graceMs);
    await this.service.close();
    await this.parts.scoring.close();
    await this.parts.models.dispose();
    await this.parts.catalog.close();
  }
}

/** The HTTP port: the viewer, slide tiles, gRPC-Web and /metrics. */
async function startWebServer(
  options: GlomsegAppOptions,
  port: number,
  parts: {
    service: DomainGlomsegService;
    catalog: SlideCatalog;
    limits: ServingLimits;
    requestBytes: RequestByteBudget;
    metrics: ServerMetrics;
    log: (message: string) => void;
  },
): Promise<WebServer> {
  const { service, catalog, limits, requestBytes, metrics, log } = parts;
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
