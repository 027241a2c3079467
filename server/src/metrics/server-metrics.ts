/**
 * The Prometheus view of one server (prom-client, its own registry so several apps in one process do not
 * collide): streams and cancellations, tile queue, cache, tile latencies by stage, call outcomes by status code
 * transport and method, the sockets of both ports, request bytes in flight, and the process's own figures (RSS, CPU,
 * event-loop lag) under prom-client's standard names (process_*, nodejs_*), which dashboards for Node services query.
 */
import * as grpc from '@grpc/grpc-js';
import { ConnectError, type Interceptor } from '@connectrpc/connect';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServiceStats } from '../service/glomseg-service.js';
import type { Timings } from '@glomseg/shared/glomseg-service.js';
import type { ConnectionGateStats } from '../grpc/connection-gate.js';
import type { SocketGateStats } from '../security/socket-gate.js';
import type { RequestByteStats } from '../validation/request-byte-budget.js';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * prom-client's gauges named `_total` (each the sum of its by-type gauge beside it, `sum without (type)` in PromQL):
 * a gauge must not end in `_total`, and `promtool check metrics` fails the page for them (prometheus/client_js#283).
 */
const GAUGES_NAMED_TOTAL = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface MetricsSources {
  service: () => ServiceStats;
  connections: () => ConnectionGateStats | undefined;
  /** The HTTP port's sockets; undefined without an HTTP server. */
  httpConnections?: () => SocketGateStats | undefined;
  requestBytes?: () => RequestByteStats | undefined;
}

/** A gauge read from its source when scraped. */
function sampledGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** A counter mirroring a running total kept elsewhere (the service's own counters). */
function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Array<[Record<string, string>, number]>,
) {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

export class ServerMetrics {
  readonly registry = new Registry();
  private sources?: MetricsSources;
  private readonly tileSeconds: Histogram<'stage'>;
  private readonly calls: Counter<'transport' | 'method' | 'code'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);
    const stats = () => this.sources?.service();
    sampledGauge(
      this.registry,
      'glomseg_streams_active',
      'StreamTiles and ScoreSlide streams running now',
      () => stats()?.activeStreams ?? 0,
    );
    mirroredCounter(this.registry, 'glomseg_streams_total', 'Streams ended, by outcome', ['outcome'], () => {
      const s = stats();
      return s
        ? [
            [{ outcome: 'completed' }, s.completedStreams],
            [{ outcome: 'cancelled' }, s.cancelledStreams],
            [{ outcome: 'failed' }, s.failedStreams],
          ]
        : [];
    });
    mirroredCounter(this.registry, 'glomseg_tiles_total', 'Model tiles answered, by source', ['source'], () => {
      const s = stats();
      return s
        ? [
            [{ source: 'cache' }, s.tilesFromCache],
            [{ source: 'computed' }, s.tilesComputed],
          ]
        : [];
    });
    sampledGauge(
      this.registry,
      'glomseg_tile_queue_depth',
      'Tile jobs waiting in the shared queue',
      () => stats()?.scheduler.queued ?? 0,
    );
    sampledGauge(
      this.registry,
      'glomseg_tile_jobs_running',
      'Tile jobs running now',
      () => stats()?.scheduler.running ?? 0,
    );
    mirroredCounter(
      this.registry,
      'glomseg_tile_jobs_dropped_total',
      'Tile jobs dropped because every stream wanting them went away',
      ['state'],
      () => {
        const s = stats()?.scheduler;
        return s
          ? [
              [{ state: 'queued' }, s.droppedQueued],
              [{ state: 'running' }, s.abortedRunning],
            ]
          : [];
      },
    );
    sampledGauge(
      this.registry,
      'glomseg_result_cache_entries',
      'Tiles in the result cache',
      () => stats()?.cache.entries ?? 0,
    );
    sampledGauge(
      this.registry,
      'glomseg_result_cache_bytes',
      'Bytes held by the result cache',
      () => stats()?.cache.bytes ?? 0,
    );
    const connections = () => this.sources?.connections();
    sampledGauge(
      this.registry,
      'glomseg_grpc_connections_open',
      'Sockets open on the gRPC port',
      () => connections()?.open ?? 0,
    );
    mirroredCounter(
      this.registry,
      'glomseg_grpc_connections_closed_total',
      'gRPC sockets closed by the gate, by reason',
      ['reason'],
      () => {
        const c = connections();
        return c
          ? [
              [{ reason: 'handshake_timeout' }, c.timedOut],
              [{ reason: 'evicted' }, c.evicted],
              [{ reason: 'refused' }, c.refused],
            ]
          : [];
      },
    );
    const httpConnections = () => this.sources?.httpConnections?.();
    sampledGauge(
      this.registry,
      'glomseg_http_connections_open',
      'Sockets open on the HTTP port (viewer, tiles, gRPC-Web)',
      () => httpConnections()?.open ?? 0,
    );
    mirroredCounter(
      this.registry,
      'glomseg_http_connections_closed_total',
      'HTTP sockets closed by the gate, by reason (write_stall: the client took no data)',
      ['reason'],
      () => {
        const c = httpConnections();
        return c
          ? [
              [{ reason: 'handshake_timeout' }, c.timedOut],
              [{ reason: 'evicted' }, c.evicted],
              [{ reason: 'refused' }, c.refused],
              [{ reason: 'write_stall' }, c.writeStalled],
            ]
          : [];
      },
    );
    const requestBytes = () => this.sources?.requestBytes?.();
    sampledGauge(
      this.registry,
      'glomseg_request_bytes_in_flight',
      'Request bytes held by calls in flight, both ports (from their length prefixes)',
      () => requestBytes()?.inFlightBytes ?? 0,
    );
    sampledGauge(
      this.registry,
      'glomseg_request_bytes_budget',
      'The budget of request bytes in flight (maxInFlightRequestBytes)',
      () => requestBytes()?.budgetBytes ?? 0,
    );
    sampledGauge(
      this.registry,
      'glomseg_requests_in_flight',
      'Calls holding request bytes now, both ports',
      () => requestBytes()?.inFlight ?? 0,
    );
    mirroredCounter(
      this.registry,
      'glomseg_request_budget_refusals_total',
      'Calls refused with RESOURCE_EXHAUSTED for the request byte budget',
      [],
      () => {
        const b = requestBytes();
        return b ? [[{}, b.refused]] : [];
      },
    );
    this.tileSeconds = new Histogram({
      name: 'glomseg_tile_stage_seconds',
      help: 'Time per computed model tile, by stage',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.calls = new Counter({
      name: 'glomseg_calls_total',
      help: 'Calls ended, by transport, method (service/Method) and gRPC status code',
      labelNames: ['transport', 'method', 'code'],
      registers: [this.registry],
    });
  }

  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** For the service: one computed tile's stage timings (ms). */
  observeTile(timings: Timings): void {
    this.tileSeconds.observe({ stage: 'read' }, timings.readMs / 1000);
    this.tileSeconds.observe({ stage: 'inference' }, timings.inferenceMs / 1000);
    this.tileSeconds.observe({ stage: 'postprocess' }, timings.postprocessMs / 1000);
    this.tileSeconds.observe({ stage: 'queue' }, timings.queueMs / 1000);
  }

  /** `method` as `package.Service/Method`, the same on both transports (only served methods reach the interceptors). */
  countCall(transport: 'grpc' | 'grpc-web', method: string, code: number): void {
    this.calls.inc({ transport, method, code: grpc.status[code] ?? String(code) });
  }

  /** grpc-js server interceptor: counts every call's final status, refusals by the token check included. */
  grpcInterceptor(): grpc.ServerInterceptor {
    return (definition, call) => {
      const method = definition.path.replace(/^\//, '');
      return new grpc.ServerInterceptingCall(
        call,
        new grpc.ResponderBuilder()
          .withSendStatus((status, next) => {
            this.countCall('grpc', method, status.code);
            next(status);
          })
          .build(),
      );
    };
  }

  /** connect interceptor for gRPC-Web: counts each call's outcome. */
  connectInterceptor(): Interceptor {
    return (next) => async (request) => {
      const method = `${request.service.typeName}/${request.method.name}`;
      try {
        const response = await next(request);
        if (!response.stream) {
          this.countCall('grpc-web', method, 0);
          return response;
        }
        const count = (code: number) => this.countCall('grpc-web', method, code);
        return {
          ...response,
          message: (async function* () {
            try {
              yield* response.message;
              count(0);
            } catch (error) {
              count(ConnectError.from(error).code);
              throw error;
            }
          })(),
        };
      } catch (error) {
        this.countCall('grpc-web', method, ConnectError.from(error).code);
        throw error;
      }
    };
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
