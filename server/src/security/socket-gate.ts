/**
 * Who may hold a socket on a port: the admission policy that both listeners (gRPC and HTTP) apply to every
 * accepted socket, so that peers which never prove to be real clients cannot lock real clients out.
 * - A socket must start its first call or request within the first-request timeout (silent sockets, HTTP/2
 *   prefaces, stalled TLS handshakes).
 * - A socket is trusted once it made an authenticated call (any call where no tokens are configured); a refused
 *   or open (health) call does not count. Only trust protects a socket: at the cap, a new socket pushes out the
 *   oldest untrusted one (a client still in its TLS handshake is the newest), and is refused only when every
 *   open socket is trusted.
 * - Each peer holds at most `maxPerPeer` sockets (a peer: an IPv4 address, or an IPv6 /64, which one host
 *   usually owns whole); past it, the peer's own oldest untrusted socket goes, never another peer's.
 */
import type net from 'node:net';

export interface SocketGateOptions {
  /** Open sockets at most; default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** Open sockets at most from one peer; default DEFAULT_MAX_CONNECTIONS_PER_PEER. */
  maxPerPeer?: number;
  /** A socket must start its first call or request within this; default DEFAULT_FIRST_REQUEST_TIMEOUT_MS. */
  firstRequestTimeoutMs?: number;
}

export interface SocketGateStats {
  open: number;
  trusted: number;
  /** Pushed out for a newer socket: at the cap or at their peer's bound. */
  evicted: number;
  /** Closed for making no call or request in time. */
  timedOut: number;
  /** New sockets closed at once: every socket they could have replaced was trusted. */
  refused: number;
  /** Reset because their client took none of their pending output for the write-stall limit (HTTP port). */
  writeStalled: number;
}

/** What identifies a connection on both transports: a net.Socket, a TLS socket, grpc-js's connection info. */
export interface SocketEndpoint {
  remoteAddress?: string;
  remotePort?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 4096;
/** A sixteenth of the cap: one host cannot fill it, a proxy in front still has room (raise it behind a busy one). */
export const DEFAULT_MAX_CONNECTIONS_PER_PEER = 256;
export const DEFAULT_FIRST_REQUEST_TIMEOUT_MS = 10_000;

interface Peer {
  key: string;
  /** Insertion order is age order: the first entry is the oldest. */
  sockets: Set<Tracked>;
  untrusted: Set<Tracked>;
}

interface Tracked {
  socket: net.Socket;
  key: string;
  peer: Peer;
  active: boolean;
  trusted: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Closes a socket with a reset. A plain destroy() leaves the descriptor open once an HTTP/2 session consumed the
 * handle; a reset closes it at once and frees the kernel's unsent data (only untrusted peers and clients that
 * stopped reading are dropped: they have nothing of ours to lose, or cannot take it).
 */
function drop(socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}

const keyOf = (endpoint: SocketEndpoint) => `${endpoint.remoteAddress}|${endpoint.remotePort}`;

/** The peer a remote address counts against: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64 prefix. */
export function peerOf(address: string | undefined): string {
  if (!address) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail] = address.split('%')[0].toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

export class SocketGate {
  private readonly maxConnections: number;
  private readonly maxPerPeer: number;
  private readonly firstRequestTimeoutMs: number;
  private readonly byEndpoint = new Map<string, Tracked>();
  /** Sets keep insertion order, which is age order: the first untrusted entry is the oldest. */
  private readonly open = new Set<Tracked>();
  private readonly untrusted = new Set<Tracked>();
  private readonly peers = new Map<string, Peer>();
  private readonly counters = { evicted: 0, timedOut: 0, refused: 0, writeStalled: 0 };

  constructor(options: SocketGateOptions = {}) {
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.maxPerPeer = Math.max(
      1,
      Math.min(options.maxPerPeer ?? DEFAULT_MAX_CONNECTIONS_PER_PEER, this.maxConnections),
    );
    this.firstRequestTimeoutMs = options.firstRequestTimeoutMs ?? DEFAULT_FIRST_REQUEST_TIMEOUT_MS;
  }

  /** Takes in a newly accepted socket, making room if it must; false (and the socket closed) when refused. */
  admit(socket: net.Socket): boolean {
    const peerKey = peerOf(socket.remoteAddress);
    const known = this.peers.get(peerKey);
    // At its peer's bound a socket can only replace one of that peer's own.
    if (known && known.sockets.size >= this.maxPerPeer && !this.evictOldest(known.untrusted))
      return this.refuse(socket);
    if (this.open.size >= this.maxConnections && !this.evictOldest(this.untrusted)) return this.refuse(socket);
    const peer = this.peers.get(peerKey) ?? {
      key: peerKey,
      sockets: new Set<Tracked>(),
      untrusted: new Set<Tracked>(),
    };
    this.peers.set(peerKey, peer);
    const tracked: Tracked = { socket, key: keyOf(socket), peer, active: false, trusted: false };
    tracked.timer = setTimeout(() => {
      this.counters.timedOut++;
      this.forget(tracked);
      drop(socket);
    }, this.firstRequestTimeoutMs);
    tracked.timer.unref();
    this.byEndpoint.set(tracked.key, tracked);
    this.open.add(tracked);
    peer.sockets.add(tracked);
    this.setUntrusted(tracked, true);
    socket.once('close', () => this.forget(tracked));
    // A reset from a peer that vanished must not surface as an unhandled error.
    socket.on('error', () => undefined);
    return true;
  }

  /** A call or request started on this connection: it is no longer silent (its first-request timer stops). */
  markActive(endpoint: SocketEndpoint): void {
    const tracked = this.byEndpoint.get(keyOf(endpoint));
    if (!tracked || tracked.active) return;
    tracked.active = true;
    clearTimeout(tracked.timer);
    tracked.timer = undefined;
  }

  /** An authenticated call or request came on this connection (any, without tokens): it is never pushed out. */
  trust(endpoint: SocketEndpoint): void {
    this.markActive(endpoint);
    const tracked = this.byEndpoint.get(keyOf(endpoint));
    if (!tracked || tracked.trusted) return;
    tracked.trusted = true;
    this.setUntrusted(tracked, false);
  }

  /**
   * Resets the connection at `endpoint` (its TCP socket, also under TLS): its client took none of its pending output
   * for the write-stall limit. False when the gate does not hold it.
   */
  dropStalled(endpoint: SocketEndpoint): boolean {
    const tracked = this.byEndpoint.get(keyOf(endpoint));
    if (!tracked) return false;
    this.counters.writeStalled++;
    this.forget(tracked);
    drop(tracked.socket);
    return true;
  }

  stats(): SocketGateStats {
    return { open: this.open.size, trusted: this.open.size - this.untrusted.size, ...this.counters };
  }

  /** Closes every socket that never made a call or request (at shutdown: they carry no work). */
  dropSilent(): void {
    for (const tracked of [...this.open]) if (!tracked.active) drop(tracked.socket);
  }

  /** Closes everything still open (after the protocol server had its grace period). */
  dropAll(): void {
    for (const tracked of [...this.open]) drop(tracked.socket);
  }

  private refuse(socket: net.Socket): false {
    this.counters.refused++;
    socket.on('error', () => undefined);
    drop(socket);
    return false;
  }

  /** Pushes out the first (oldest) of `untrusted`; false when there is none. */
  private evictOldest(untrusted: Set<Tracked>): boolean {
    const victim: Tracked | undefined = untrusted.values().next().value;
    if (!victim) return false;
    this.counters.evicted++;
    this.forget(victim);
    drop(victim.socket);
    return true;
  }

  private setUntrusted(tracked: Tracked, untrusted: boolean): void {
    for (const set of [this.untrusted, tracked.peer.untrusted]) {
      if (untrusted) set.add(tracked);
      else set.delete(tracked);
    }
  }

  private forget(tracked: Tracked): void {
    clearTimeout(tracked.timer);
    if (!this.open.delete(tracked)) return;
    this.setUntrusted(tracked, false);
    if (this.byEndpoint.get(tracked.key) === tracked) this.byEndpoint.delete(tracked.key);
    tracked.peer.sockets.delete(tracked);
    if (tracked.peer.sockets.size === 0) this.peers.delete(tracked.peer.key);
  }
}
