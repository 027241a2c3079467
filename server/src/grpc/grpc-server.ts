/** The native gRPC server: glomseg.v1.Glomseg plus standard health checking and reflection. */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { GlomsegService } from '@glomseg/shared/glomseg-service.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { createGlomsegServiceImpl } from '@glomseg/api/server/service-impl.js';
import { grpcJsHandlers } from './connect-on-grpc-js.js';
import { grpcServiceDefinition } from './service-definition.js';
import { addReflection } from './reflection.js';
import { CallDrainer } from './drain.js';
import { DEFAULT_LIMITS } from '../validation/limits.js';
import type { ServingSecurity } from '../security/serving-security.js';
import { authInterceptor } from './auth-interceptor.js';
import { ConnectionGate, type ConnectionGateStats } from './connection-gate.js';
import { HealthPort } from './health-port.js';
import { grpcJsEdge } from './grpc-js-edge.js';
import { requestByteAdmission } from './request-byte-admission.js';
import { RequestByteBudget } from '../validation/request-byte-budget.js';

/** The health service name a liveness probe asks for (readiness asks for '' or glomseg.v1.Glomseg). */
export const LIVENESS_SERVICE = 'liveness';

export interface GrpcConnectionOptions {
  /** Open sockets at most, on each port; at the cap a new socket pushes out the oldest untrusted one. */
  maxConnections?: number;
  /** Open sockets at most from one peer address (an IPv6 /64), on each port; default 256. */
  maxConnectionsPerPeer?: number;
  /** A new socket must start a call within this (silent and preface-only sockets are closed); HTTP: send its headers. */
  handshakeTimeoutMs?: number;
  /** A connection with no call for this long is closed (GOAWAY). */
  idleTimeoutMs?: number;
  /** Server pings at this interval find dead peers. */
  keepaliveMs?: number;
}

export interface GrpcServerOptions {
  service: GlomsegService;
  host?: string;
  port?: number;
  /** Largest request message; default DEFAULT_LIMITS.maxMessageBytes. */
  maxMessageBytes?: number;
  /** A reply unsent this long resets its stream (grpc-js-edge.ts); default DEFAULT_LIMITS.maxWriteStallMs. */
  writeStallMs?: number;
  /** Request bytes in flight (shared with the HTTP port); default: DEFAULT_LIMITS.maxInFlightRequestBytes of its own. */
  requestBytes?: RequestByteBudget;
  security?: ServingSecurity;
  connections?: GrpcConnectionOptions;
  /** Also serve grpc.health.v1 alone, in plaintext, on this port (health-port.ts); 0: any free port. */
  healthPort?: number;
  /** Run first on every call, health included (metrics). */
  interceptors?: grpc.ServerInterceptor[];
  log?: (message: string) => void;
}

export class GrpcServer {
  /** The plaintext health-only port, when asked for. */
  healthPort?: HealthPort;

  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    readonly port: number,
    private readonly health: HealthImplementation,
    private readonly drainer: CallDrainer,
    private readonly log: (message: string) => void,
    private readonly gate: ConnectionGate,
  ) {}

  connectionStats(): ConnectionGateStats {
    return this.gate.stats();
  }

  static async start(options: GrpcServerOptions): Promise<GrpcServer> {
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes;
    const connections = options.connections ?? {};
    const tokens = options.security?.tokens;
    // The gate hears of every call: any call ends a connection's first-call timeout, but only an authenticated
    // one (any one when no tokens are configured) makes it trusted, safe from being pushed out. A refused or
    // health call must not: peers without a token could then fill the cap with trusted connections. The gate is
    // made below, and exists before any call: calls come only over the sockets it accepts.
    const interceptors: grpc.ServerInterceptor[] = [
      // These two read grpc-js's own call, which only the first gets: the budget's hands it on unwrapped.
      requestByteAdmission({
        budget: options.requestBytes ?? new RequestByteBudget(DEFAULT_LIMITS.maxInFlightRequestBytes),
        maxMessageBytes,
        log: options.log,
      }),
      grpcJsEdge({ writeStallMs: options.writeStallMs ?? DEFAULT_LIMITS.maxWriteStallMs, log: options.log }),
      ...(options.interceptors ?? []),
      (_method, call) => {
        if (tokens) gate.markActive(call.getConnectionInfo());
        else gate.trust(call.getConnectionInfo());
        return new grpc.ServerInterceptingCall(call);
      },
    ];
    if (tokens) interceptors.push(authInterceptor(tokens, (call) => gate.trust(call.getConnectionInfo())));
    const server = new grpc.Server({
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      'grpc.keepalive_time_ms': connections.keepaliveMs ?? 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.max_connection_idle_ms': connections.idleTimeoutMs ?? 5 * 60_000,
      'grpc.max_concurrent_streams': 256,
      interceptors,
    });
    const drainer = new CallDrainer();
    const log = options.log ?? (() => {});
    server.addService(
      grpcServiceDefinition(Glomseg),
      drainer.wrap(grpcJsHandlers(Glomseg, createGlomsegServiceImpl(options.service, log), log)),
    );
    // LIVENESS_SERVICE stays SERVING while draining: a liveness probe must not restart a pod that is finishing work.
    const health = new HealthImplementation({
      '': 'SERVING',
      [Glomseg.typeName]: 'SERVING',
      [LIVENESS_SERVICE]: 'SERVING',
    });
    health.addToServer(server);
    addReflection(server);
    const host = options.host ?? '127.0.0.1';
    const tls = options.security?.tls;
    const credentials = tls
      ? grpc.ServerCredentials.createSsl(
          tls.clientCa ?? null,
          [{ private_key: tls.key, cert_chain: tls.cert }],
          tls.clientCa !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    // Our own listener accepts the sockets (timeouts, cap) and hands them to grpc-js.
    const injector = server.createConnectionInjector(credentials);
    const gate = await ConnectionGate.listen({
      host,
      port: options.port ?? 0,
      maxConnections: connections.maxConnections,
      maxConnectionsPerPeer: connections.maxConnectionsPerPeer,
      handshakeTimeoutMs: connections.handshakeTimeoutMs,
      inject: (socket) => injector.injectConnection(socket),
    });
    const address = `${host.includes(':') ? `[${host}]` : host}:${gate.port}`;
    const grpcServer = new GrpcServer(server, address, gate.port, health, drainer, options.log ?? (() => {}), gate);
    if (options.healthPort !== undefined) {
      grpcServer.healthPort = await HealthPort.listen({ health, host, port: options.healthPort }).catch(
        async (error) => {
          await grpcServer.close(0);
          throw error;
        },
      );
      log(`health checks (grpc.health.v1 only, plaintext) on ${grpcServer.healthPort.address}`);
    }
    return grpcServer;
  }

  /**
   * Drains (see drain.ts): health NOT_SERVING, new calls refused with UNAVAILABLE, running ones given `graceMs` to
   * finish and then ended with UNAVAILABLE; then the server stops.
   */
  async close(graceMs = 2000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(Glomseg.typeName, 'NOT_SERVING');
    const active = this.drainer.activeCalls;
    if (active > 0) this.log(`draining: ${active} calls in progress, up to ${(graceMs / 1000).toFixed(0)} s to finish`);
    const { finished, cancelled } = await this.drainer.drain(graceMs);
    if (active > 0)
      this.log(`drained: ${finished} calls finished, ${cancelled} cancelled (UNAVAILABLE, to be retried elsewhere)`);
    const gateClosed = this.gate.close();
    await new Promise<void>((resolve) => {
      // Only health watchers and cancelled calls are left: a short wait for their status to go out.
      const timer = setTimeout(
        () => {
          this.server.forceShutdown();
          resolve();
        },
        Math.min(graceMs, 1000),
      );
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.gate.destroyAll();
    await gateClosed;
    // Last: 'liveness' answers SERVING until the process is done.
    this.healthPort?.close();
  }
}
