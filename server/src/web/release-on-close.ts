/**
 * A reply that closes before it finished (its client went away, or was reset for not reading) never emits 'drain',
 * and connect-node's writer (node-universal-handler.js, write()) waits for 'drain' or 'error' only: a gRPC-Web
 * stream parked there on backpressure stayed suspended for ever, and its service stream with it. On close such
 * waiters are released: their next write fails on the closed reply, which ends the call as cancelled.
 */
import type http from 'node:http';

export function releaseWritersOnClose(response: http.ServerResponse): void {
  response.once('close', () => {
    if (!response.writableFinished) response.emit('drain');
  });
}
