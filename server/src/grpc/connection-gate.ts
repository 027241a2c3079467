/**
 * The gRPC port's own TCP listener, in front of grpc-js (which gets each accepted socket through its connection
 * injector): every socket is admitted through the SocketGate (security/socket-gate.ts: first-call timeout, cap,
 * bound per peer, untrusted sockets pushed out first). Established connections are left to grpc-js keepalive and
 * max-idle settings.
 */
import net from 'node:net';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { SocketGate, type SocketEndpoint, type SocketGateStats } from '../security/socket-gate.js';

export interface ConnectionGateOptions {
  host: string;
  port: number;
  /** Open sockets at most; default DEFAULT_MAX_CONNECTIONS (security/socket-gate.ts). */
  maxConnections?: number;
  /** Open sockets at most from one peer address (an IPv6 /64); default 256. */
  maxConnectionsPerPeer?: number;
  /** A socket must start its first call within this; default 10 s. */
  handshakeTimeoutMs?: number;
  /** Hands an accepted socket to the gRPC server. */
  inject: (socket: net.Socket) => void;
}

export type ConnectionGateStats = SocketGateStats;

export class ConnectionGate {
  private constructor(
    private readonly server: net.Server,
    private readonly gate: SocketGate,
  ) {}

  static async listen(options: ConnectionGateOptions): Promise<ConnectionGate> {
    const gate = new SocketGate({
      maxConnections: options.maxConnections,
      maxPerPeer: options.maxConnectionsPerPeer,
      firstRequestTimeoutMs: options.handshakeTimeoutMs,
    });
    const server = net.createServer((socket) => {
      if (gate.admit(socket)) options.inject(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new GlomsegError(
            'UNAVAILABLE',
            `cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`,
            { cause: error },
          ),
        ),
      );
      server.listen(options.port, options.host, () => resolve());
    });
    return new ConnectionGate(server, gate);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** A call started on this connection (grpc-js's connection info): it is no longer silent. */
  markActive(connection: SocketEndpoint): void {
    this.gate.markActive(connection);
  }

  /** An authenticated call started on this connection: it is a real client, never pushed out. */
  trust(connection: SocketEndpoint): void {
    this.gate.trust(connection);
  }

  stats(): ConnectionGateStats {
    return this.gate.stats();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.gate.dropSilent();
    await closed;
  }

  /** Destroys what is still open (after grpc-js had its grace period). */
  destroyAll(): void {
    this.gate.dropAll();
  }
}
