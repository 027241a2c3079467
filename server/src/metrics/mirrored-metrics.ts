/**
 * The gauges and counters a scrape reads from the server's own running figures (the service's stats, the socket
 * gates of both ports, the request byte budget): nothing is counted twice, the page mirrors what the parts keep.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ServiceStats } from '../service/glomseg-service.js';
import type { ConnectionGateStats } from '../grpc/connection-gate.js';
import type { SocketGateStats } from '../security/socket-gate.js';
import type { RequestByteStats } from '../validation/request-byte-budget.js';

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

/** Streams, model tiles, the shared tile queue and the result cache. */
export function registerServiceMetrics(registry: Registry, stats: () => ServiceStats | undefined): void {
  sampledGauge(
    registry,
    'glomseg_streams_active',
    'StreamTiles and ScoreSlide streams running now',
    () => stats()?.activeStreams ?? 0,
  );
  mirroredCounter(registry, 'glomseg_streams_total', 'Streams ended, by outcome', ['outcome'], () => {
    const s = stats();
    return s
      ? [
          [{ outcome: 'completed' }, s.completedStreams],
          [{ outcome: 'cancelled' }, s.cancelledStreams],
          [{ outcome: 'failed' }, s.failedStreams],
        ]
      : [];
  });
  mirroredCounter(registry, 'glomseg_tiles_total', 'Model tiles answered, by source', ['source'], () => {
    const s = stats();
    return s
      ? [
          [{ source: 'cache' }, s.tilesFromCache],
          [{ source: 'computed' }, s.tilesComputed],
        ]
      : [];
  });
  sampledGauge(
    registry,
    'glomseg_tile_queue_depth',
    'Tile jobs waiting in the shared queue',
    () => stats()?.scheduler.queued ?? 0,
  );
  sampledGauge(registry, 'glomseg_tile_jobs_running', 'Tile jobs running now', () => stats()?.scheduler.running ?? 0);
  mirroredCounter(
    registry,
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
    registry,
    'glomseg_result_cache_entries',
    'Tiles in the result cache',
    () => stats()?.cache.entries ?? 0,
  );
  sampledGauge(
    registry,
    'glomseg_result_cache_bytes',
    'Bytes held by the result cache',
    () => stats()?.cache.bytes ?? 0,
  );
}

/** The sockets of both ports: open now, and closed by the gates by reason. */
export function registerConnectionMetrics(
  registry: Registry,
  connections: () => ConnectionGateStats | undefined,
  httpConnections: () => SocketGateStats | undefined,
): void {
  sampledGauge(
    registry,
    'glomseg_grpc_connections_open',
    'Sockets open on the gRPC port',
    () => connections()?.open ?? 0,
  );
  mirroredCounter(
    registry,
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
  sampledGauge(
    registry,
    'glomseg_http_connections_open',
    'Sockets open on the HTTP port (viewer, tiles, gRPC-Web)',
    () => httpConnections()?.open ?? 0,
  );
  mirroredCounter(
    registry,
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
}

/** The request byte budget shared by both ports. */
export function registerRequestByteMetrics(registry: Registry, requestBytes: () => RequestByteStats | undefined): void {
  sampledGauge(
    registry,
    'glomseg_request_bytes_in_flight',
    'Request bytes held by calls in flight, both ports (from their length prefixes)',
    () => requestBytes()?.inFlightBytes ?? 0,
  );
  sampledGauge(
    registry,
    'glomseg_request_bytes_budget',
    'The budget of request bytes in flight (maxInFlightRequestBytes)',
    () => requestBytes()?.budgetBytes ?? 0,
  );
  sampledGauge(
    registry,
    'glomseg_requests_in_flight',
    'Calls holding request bytes now, both ports',
    () => requestBytes()?.inFlight ?? 0,
  );
  mirroredCounter(
    registry,
    'glomseg_request_budget_refusals_total',
    'Calls refused with RESOURCE_EXHAUSTED for the request byte budget',
    [],
    () => {
      const b = requestBytes();
      return b ? [[{}, b.refused]] : [];
    },
  );
}
