/**
 * Output a client does not take, on the HTTP port. An HTTP/1.1 connection carries one reply at a time, and a client
 * that stops reading holds it for ever, with the work behind it: a gRPC-Web stream waits to write its next message,
 * its service stream suspended. A status cannot reach such a client (it would queue behind the unsent data), so
 * after `stallMs` without progress the connection is the client's loss: `onStall` resets it, which ends its calls.
 *
 * What is watched is the connection's socket, not each reply: every write is pending until the kernel takes it,
 * and while some are pending each one taken restarts the clock. So a slow reader that keeps taking data is left
 * alone, and so are pipelined replies waiting their turn behind a long stream (they have not written to the socket).
 */
import type net from 'node:net';

type WriteCallback = (error?: Error | null) => void;

/** Watches `socket` (the one the HTTP server writes to: the TLS socket under TLS) for the rest of its life. */
export function watchWriteStall(socket: net.Socket, stallMs: number, onStall: () => void): void {
  let pending = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    // A closed socket still calls back its pending writes (with errors): no clock for them.
    if (closed) return;
    if (timer) timer.refresh();
    else
      timer = setTimeout(() => {
        timer = undefined;
        onStall();
      }, stallMs);
  };
  const taken = () => {
    if (--pending === 0) stop();
    else arm();
  };
  const write = socket.write.bind(socket) as (chunk: unknown, encoding: unknown, callback: WriteCallback) => boolean;
  // Node's HTTP server writes with write(data, encoding, callback), encoding and callback possibly null.
  socket.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
    if (typeof encoding === 'function') [encoding, callback] = [undefined, encoding];
    if (pending++ === 0) arm();
    try {
      return write(chunk, encoding, (error) => {
        taken();
        if (typeof callback === 'function') (callback as WriteCallback)(error);
      });
    } catch (error) {
      taken();
      throw error;
    }
  }) as typeof socket.write;
  socket.once('close', () => {
    closed = true;
    stop();
  });
}
