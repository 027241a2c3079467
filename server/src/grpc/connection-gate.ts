/**
 * The gRPC port's own TCP listener, in front of grpc-js (which gets each accepted socket through its connection
 * injector). It bounds what idle sockets can take: a socket that has not started a call within the handshake
 * timeout is closed (silent sockets, preface-only HTTP/2 sessions, stalled TLS), and at the connection cap a new
 * client pushes out the oldest socket that never carried a call, so squatters cannot lock real clients out.
 * Established connections are left to grpc-js keepalive and max-idle settings.
 */
import net from 'node:net';
import { GlomsegError } from '@glomseg/shared/errors.js';

export interface ConnectionGateOptions {
  host: string;
  port: number;
  /** Open sockets at most; default 4096. */
  maxConnections?: number;
  /** A socket must start its first call within this; default 10 s. */
  handshakeTimeoutMs?: number;
  /** Hands an accepted socket to the gRPC server. */
  inject: (socket: net.Socket) => void;
  log?: (message: string) => void;
}

export interface ConnectionGateStats {
  open: number;
  proven: number;
  evicted: number;
  timedOut: number;
  refused: number;
}

interface Tracked {
  socket: net.Socket;
  proven: boolean;
  timer?: NodeJS.Timeout;
}

const DEFAULT_MAX_CONNECTIONS = 4096;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Closes a socket the HTTP/2 session has taken over. A plain destroy() leaves the descriptor open once the
 * session consumed the handle; a reset closes it at once (these peers never made a call, nothing is lost).
 */
function drop(socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}

const keyOf = (address: string | undefined, port: number | undefined) => `${address}|${port}`;

export class ConnectionGate {
  /** Insertion order is age order: the first unproven entry is the oldest. */
  private readonly sockets = new Map<string, Tracked>();
  private readonly counters = { evicted: 0, timedOut: 0, refused: 0 };

  private constructor(
    private readonly server: net.Server,
    private readonly options: Required<Omit<ConnectionGateOptions, 'log'>> & Pick<ConnectionGateOptions, 'log'>,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(options: ConnectionGateOptions): Promise<ConnectionGate> {
    const server = net.createServer();
    const gate = new ConnectionGate(server, {
      ...options,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new GlomsegError('UNAVAILABLE', `cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`, { cause: error })),
      );
      server.listen(options.port, options.host, () => resolve());
    });
    return gate;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Called for every call that starts: its connection is a real client from now on. */
  markProven(remoteAddress: string | undefined, remotePort: number | undefined): void {
    const tracked = this.sockets.get(keyOf(remoteAddress, remotePort));
    if (!tracked || tracked.proven) return;
    tracked.proven = true;
    clearTimeout(tracked.timer);
    tracked.timer = undefined;
  }

  stats(): ConnectionGateStats {
    let proven = 0;
    for (const t of this.sockets.values()) if (t.proven) proven++;
    return { open: this.sockets.size, proven, ...this.counters };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const tracked of this.sockets.values()) if (!tracked.proven) drop(tracked.socket);
    await closed;
  }

  /** Destroys what is still open (after grpc-js had its grace period). */
  destroyAll(): void {
    for (const tracked of this.sockets.values()) drop(tracked.socket);
  }

  private accept(socket: net.Socket): void {
    if (this.sockets.size >= this.options.maxConnections && !this.evictOldestUnproven()) {
      this.counters.refused++;
      socket.destroy();
      return;
    }
    const key = keyOf(socket.remoteAddress, socket.remotePort);
    const tracked: Tracked = { socket, proven: false };
    tracked.timer = setTimeout(() => {
      this.counters.timedOut++;
      drop(socket);
    }, this.options.handshakeTimeoutMs);
    tracked.timer.unref();
    this.sockets.set(key, tracked);
    socket.once('close', () => {
      clearTimeout(tracked.timer);
      if (this.sockets.get(key) === tracked) this.sockets.delete(key);
    });
    // A reset from a peer that vanished must not surface as an unhandled error.
    socket.on('error', () => undefined);
    this.options.inject(socket);
  }

  private evictOldestUnproven(): boolean {
    for (const [key, tracked] of this.sockets) {
      if (tracked.proven) continue;
      this.sockets.delete(key);
      clearTimeout(tracked.timer);
      drop(tracked.socket);
      this.counters.evicted++;
      return true;
    }
    return false;
  }
}
