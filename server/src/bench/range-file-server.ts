/**
 * A real HTTP file server on a loopback port, for the slide-by-URL tests and the remote-read benchmark: `send` (the
 * module behind express.static) does the Range handling (206 with Content-Range, 416, If-Range). Routes map URL
 * paths to files; a route can also fail its next requests with 503 (transient faults), redirect, or ignore Range.
 * Counts requests and bytes sent.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import send from 'send';

export interface Route {
  file: string;
  /** Answer this many next requests with 503 first. */
  failNext?: number;
  /** Redirect to this URL instead of serving. */
  redirectTo?: string;
  /** Answer 200 with the whole file, ignoring Range. */
  ignoreRange?: boolean;
}

export class RangeServer {
  readonly routes = new Map<string, Route>();
  requests = 0;
  bytesSent = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<RangeServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const self = new RangeServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => self.handle(req, res));
    return self;
  }

  /** Serves `file` at `/<urlPath>` and returns its URL. */
  serve(urlPath: string, route: Route): string {
    this.routes.set(`/${urlPath}`, route);
    return `${this.url}/${urlPath}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    const route = this.routes.get(new URL(req.url ?? '/', this.url).pathname);
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    if (route.failNext && route.failNext > 0) {
      route.failNext--;
      res.writeHead(503).end('try again');
      return;
    }
    if (route.redirectTo) {
      res.writeHead(302, { location: route.redirectTo }).end();
      return;
    }
    const originalWrite = res.write.bind(res) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    res.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      this.bytesSent += Buffer.byteLength(chunk);
      return originalWrite(chunk, ...rest);
    }) as typeof res.write;
    if (route.ignoreRange) delete req.headers.range;
    send(req, path.basename(route.file), {
      root: path.dirname(route.file),
      acceptRanges: !route.ignoreRange,
      dotfiles: 'allow',
    }).pipe(res);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
