/**
 * HTTP/1.1 pipelining, one request at a time per connection. Node calls the handler of a pipelined request at once
 * and queues its reply behind the one before it. A queued gRPC-Web reply writes into that queue and waits for it to
 * drain; when the connection closes first, nothing ends that wait, and its service stream stayed suspended for
 * ever (a client that pipelines calls and stops reading pinned them all). Here a request is handled only once the
 * reply before it on its connection is done, and never when the connection closed meanwhile: pipelining clients
 * still get every reply, in order. Browsers and proxies do not pipeline; a connection with more than `maxWaiting`
 * requests waiting is closed (each waiting request is held in memory).
 */
import type http from 'node:http';
import type net from 'node:net';

/** Requests waiting on one connection at most: far more than any client that pipelines needs. */
export const DEFAULT_MAX_WAITING_REQUESTS = 32;

interface Line {
  busy: boolean;
  waiting: Array<() => void>;
}

export class PipelinedRequests {
  private readonly lines = new WeakMap<net.Socket, Line>();

  constructor(private readonly maxWaiting = DEFAULT_MAX_WAITING_REQUESTS) {}

  /** Runs `handle` for this request now, or once the replies before it on its connection are done. */
  inTurn(request: http.IncomingMessage, response: http.ServerResponse, handle: () => void): void {
    const socket = request.socket;
    let line = this.lines.get(socket);
    if (!line) {
      line = { busy: false, waiting: [] };
      this.lines.set(socket, line);
    }
    const current = line;
    const start = () => {
      current.busy = true;
      response.once('close', () => {
        current.busy = false;
        if (socket.destroyed) current.waiting.length = 0;
        current.waiting.shift()?.();
      });
      handle();
    };
    if (!current.busy) return start();
    if (current.waiting.length >= this.maxWaiting) {
      socket.destroy();
      return;
    }
    current.waiting.push(start);
  }
}
