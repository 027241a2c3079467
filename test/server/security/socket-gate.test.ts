/**
 * The socket gate's policy on its own, over real loopback sockets into a plain net.Server: who is pushed out at
 * the cap and at a peer's bound, who is refused, and which addresses count as one peer.
 */
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { peerOf, SocketGate } from '../../../server/src/security/socket-gate.js';
import { until } from '../../helpers/until.js';

const servers: net.Server[] = [];
const clients: net.Socket[] = [];

afterAll(async () => {
  for (const client of clients) client.destroy();
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
});

/** A server whose sockets pass through `gate`; `accepted` holds them in order, so tests can trust some. */
async function gated(gate: SocketGate): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => {
    if (gate.admit(socket)) accepted.push(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

/** Connects from `localAddress` and resolves once the server has admitted (or refused) the socket. */
async function connect(port: number, localAddress: string, gate: SocketGate): Promise<net.Socket> {
  const seen = gate.stats();
  const before = seen.open + seen.refused + seen.evicted;
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => undefined);
  socket.resume();
  clients.push(socket);
  await until(() => {
    const now = gate.stats();
    return now.open + now.refused + now.evicted > before;
  });
  return socket;
}

const closed = (socket: net.Socket) => until(() => socket.destroyed || socket.closed);

describe('SocketGate', () => {
  it('at the cap pushes out the oldest untrusted socket, spares trusted ones, and refuses when all are trusted', async () => {
    const gate = new SocketGate({ maxConnections: 3, maxPerPeer: 3, firstRequestTimeoutMs: 60_000 });
    const { port, accepted } = await gated(gate);
    const [a, b, c] = [
      await connect(port, '127.0.0.2', gate),
      await connect(port, '127.0.0.3', gate),
      await connect(port, '127.0.0.4', gate),
    ];
    gate.trust(accepted[0]); // a: an authenticated call came on it
    gate.markActive(accepted[1]); // b: a call came, but not an authenticated one
    const d = await connect(port, '127.0.0.5', gate);
    // b is the oldest untrusted: an unauthenticated call does not protect it; a does not go although older.
    await closed(b);
    expect([a.destroyed, c.destroyed, d.destroyed]).toEqual([false, false, false]);
    gate.trust(accepted[2]);
    gate.trust(accepted[3]);
    const e = await connect(port, '127.0.0.6', gate);
    await closed(e);
    expect(gate.stats()).toMatchObject({ open: 3, trusted: 3, evicted: 1, refused: 1 });
  });

  it("past a peer's bound pushes out only that peer's own oldest untrusted socket, or refuses", async () => {
    const gate = new SocketGate({ maxConnections: 100, maxPerPeer: 2, firstRequestTimeoutMs: 60_000 });
    const { port, accepted } = await gated(gate);
    const other = await connect(port, '127.0.0.7', gate);
    const first = await connect(port, '127.0.0.8', gate);
    const second = await connect(port, '127.0.0.8', gate);
    const third = await connect(port, '127.0.0.8', gate);
    await closed(first);
    expect([other.destroyed, second.destroyed, third.destroyed]).toEqual([false, false, false]);
    gate.trust(accepted[2]);
    gate.trust(accepted[3]);
    const fourth = await connect(port, '127.0.0.8', gate);
    await closed(fourth);
    expect(gate.stats()).toMatchObject({ open: 3, trusted: 2, evicted: 1, refused: 1 });
  });

  it('closes a socket that makes no call in time, and not one that did', async () => {
    const gate = new SocketGate({ firstRequestTimeoutMs: 200 });
    const { port, accepted } = await gated(gate);
    const silent = await connect(port, '127.0.0.9', gate);
    const calling = await connect(port, '127.0.0.9', gate);
    gate.markActive(accepted[1]);
    await closed(silent);
    expect(calling.destroyed).toBe(false);
    expect(gate.stats()).toMatchObject({ open: 1, timedOut: 1 });
  });

  it('counts an IPv4 address (mapped or not) as one peer, and an IPv6 address by its /64', () => {
    expect(peerOf('192.0.2.7')).toBe('192.0.2.7');
    expect(peerOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(peerOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(peerOf('2001:db8:1:2:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(peerOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(peerOf('2001:db8:0:3::1')).not.toBe(peerOf('2001:db8::1'));
    expect(peerOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(peerOf('::1')).toBe('0:0:0:0::/64');
  });
});
