/**
 * The Prometheus view of one server (prom-client, its own registry so several apps in one process do not
 * collide): streams and cancellations, tile queue, cache, tile latencies by stage, call outcomes by status code
 * transport and method, the sockets of both ports, request bytes in flight, and the process's own figures (RSS, CPU,
 * event-loop lag) under prom-client's standard names (process_*, nodejs_*), which dashboards for Node services query.
 */
import * as grpc from '@grpc/grpc-js';
import { ConnectError, type Interceptor } from '@connectrpc/connect';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { ServiceStats } from '../service/glomseg-service.js';
import type { Timings } from '@glomseg/shared/glomseg-service.js';
import type { ConnectionGateStats } from '../grpc/connection-gate.js';
import type { SocketGateStats } from '../security/socket-gate.js';
import type { RequestByteStats } from '../validation/request-byte-budget.js';
import { registerConnectionMetrics, registerRequestByteMetrics, registerServiceMetrics } from './mirrored-metrics.js';

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

export class ServerMetrics {
  readonly registry = new Registry();
  private sources?: MetricsSources;
  private readonly tileSeconds: Histogram<'stage'>;
  private readonly calls: Counter<'transport' | 'method' | 'code'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);
    registerServiceMetrics(this.registry, () => this.sources?.service());
    registerConnectionMetrics(
      this.registry,
      () => this.sources?.connections(),
      () => this.sources?.httpConnections?.(),
    );
    registerRequestByteMetrics(this.registry, () => this.sources?.requestBytes?.());
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
