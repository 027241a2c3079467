/** The native gRPC server: glomseg.v1.Glomseg plus standard health checking and reflection. */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import type { GlomsegService } from '../service/types.js';
import { createHandlers } from './handlers.js';
import { grpcServiceDefinition } from './service-definition.js';
import { loadGlomsegProto, SERVICE_NAME } from './proto.js';
import { DEFAULT_LIMITS } from '../validation/limits.js';
import type { ServingSecurity } from '../security/serving-security.js';
import { authInterceptor } from './auth-interceptor.js';
import { ConnectionGate, type ConnectionGateStats } from './connection-gate.js';

export interface GrpcConnectionOptions {
  /** Open sockets at most, on each port. */
  maxConnections?: number;
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
  security?: ServingSecurity;
  connections?: GrpcConnectionOptions;
  /** Run first on every call, health included (metrics). */
  interceptors?: grpc.ServerInterceptor[];
  log?: (message: string) => void;
}

export class GrpcServer {
  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    readonly port: number,
    private readonly health: HealthImplementation,
    private readonly gate: ConnectionGate,
  ) {}

  connectionStats(): ConnectionGateStats {
    return this.gate.stats();
  }

  static async start(options: GrpcServerOptions): Promise<GrpcServer> {
    // proto-loader's definition feeds reflection; calls use the protobuf-es messages shared with gRPC-Web.
    const { packageDefinition } = loadGlomsegProto();
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes;
    const connections = options.connections ?? {};
    let gate: ConnectionGate | undefined;
    // Every call marks its connection as a real client for the gate; then the token check, if any.
    const interceptors: grpc.ServerInterceptor[] = [
      ...(options.interceptors ?? []),
      (_method, call) => {
        const info = call.getConnectionInfo();
        gate?.markProven(info.remoteAddress, info.remotePort);
        return new grpc.ServerInterceptingCall(call);
      },
    ];
    if (options.security?.tokens) interceptors.push(authInterceptor(options.security.tokens));
    const server = new grpc.Server({
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      'grpc.keepalive_time_ms': connections.keepaliveMs ?? 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.max_connection_idle_ms': connections.idleTimeoutMs ?? 5 * 60_000,
      'grpc.max_concurrent_streams': 256,
      interceptors,
    });
    server.addService(grpcServiceDefinition(), createHandlers(options.service, options.log ?? (() => {})));
    const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
    health.addToServer(server);
    new ReflectionService(packageDefinition).addToServer(server);
    const host = options.host ?? '127.0.0.1';
    const tls = options.security?.tls;
    const credentials = tls
      ? grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined)
      : grpc.ServerCredentials.createInsecure();
    // Our own listener accepts the sockets (timeouts, cap) and hands them to grpc-js.
    const injector = server.createConnectionInjector(credentials);
    gate = await ConnectionGate.listen({
      host,
      port: options.port ?? 0,
      maxConnections: connections.maxConnections,
      handshakeTimeoutMs: connections.handshakeTimeoutMs,
      inject: (socket) => injector.injectConnection(socket),
      log: options.log,
    });
    const address = `${host.includes(':') ? `[${host}]` : host}:${gate.port}`;
    return new GrpcServer(server, address, gate.port, health, gate);
  }

  /** Stops accepting calls, lets running ones finish for `graceMs`, then cancels the rest. */
  async close(graceMs = 2000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    const gateClosed = this.gate.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.gate.destroyAll();
    await gateClosed;
  }
}
