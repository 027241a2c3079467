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
import type { GrpcServer } from './grpc/grpc-server.js';
import type { WebServer } from './web/web-server.js';
import { exposureWarning } from './security/exposure.js';
import { resolveLimits, type ServingLimits } from './validation/limits.js';
import { RequestByteBudget, type RequestByteStats } from './validation/request-byte-budget.js';
import { ScoringPool } from './scoring/scoring-pool.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { openAnnotations } from './annotations/open-annotations.js';
import { startGrpcServer, startWebServer, type PortOptions, type ServingCore } from './serving-ports.js';
import { createModelAdaptation, type AdaptationSettings } from './adaptation/adaptation-setup.js';

/** The ports' own options (host, ports, demo, security, connections) are in serving-ports.ts. */
export interface GlomsegAppOptions extends PortOptions {
  /** HTTP port for the viewer and gRPC-Web; false: no HTTP server. */
  httpPort?: number | false;
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
  /** Load the default model at start (so the first request does not wait, and a bad model fails early). */
  warm?: boolean;
  log?: (message: string) => void;
  /** Cost bounds checked before work; defaults in validation/limits.ts. */
  limits?: Partial<ServingLimits>;
  /** Who may adapt models (default: token holders only) and the training process's bounds. */
  adaptation?: AdaptationSettings;
  /** Where reviewed annotations are kept (created if missing); unset: the server keeps none. */
  dataDir?: string;
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
    const core = await openCore(options, limits, log);
    const { catalog, models, scoring, service, metrics, requestBytes } = core;
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
      const grpc = await startGrpcServer(options, core);
      let web: WebServer | undefined;
      metrics.attach({
        service: () => service.stats(),
        connections: () => grpc.connectionStats(),
        httpConnections: () => web?.connectionStats(),
        requestBytes: () => requestBytes.stats(),
      });
      cleanup.unshift(() => grpc.close());
      if (options.httpPort !== false) {
        web = await startWebServer(options, options.httpPort ?? 0, core);
        cleanup.unshift(() => web!.close());
      }
      if (options.warm) {
        const segmenter = await models.warm(core.registry.defaultModel().card.id);
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

/** The parts behind the ports: slides, models, the scoring pool, the domain service and what measures them. */
async function openCore(
  options: GlomsegAppOptions,
  limits: ServingLimits,
  log: (message: string) => void,
): Promise<ServingCore & { registry: ModelRegistry; models: OnnxModelProvider; scoring: ScoringPool }> {
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
  const { security } = options;
  const annotations =
    options.dataDir === undefined
      ? undefined
      : await openAnnotations({ dataDir: options.dataDir, tokens: security?.tokens, slides: catalog, log });
  const service = createGlomsegService({
    annotations: annotations?.annotations,
    slides: catalog,
    models,
    scoring,
    concurrency,
    limits,
    scoreTileSize: options.scoreTileSize,
    onTileComputed: (t) => metrics.observeTile(t),
  });
  service.adaptation = createModelAdaptation({
    registry,
    sessions: models,
    slides: catalog,
    service,
    scoring,
    budget: limits,
    annotations: annotations?.annotations,
    tokensRequired: security?.tokens !== undefined,
    settings: options.adaptation,
    log,
  });
  return { catalog, registry, models, scoring, requestBytes, metrics, service, limits, log };
}
