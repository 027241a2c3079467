/**
 * The plain HTTP routes beside gRPC-Web: the viewer page, the plugin bundle, viewer tiles of the slide pyramid and
 * the demo slide's annotations. Every error is answered as JSON with the status of its code.
 */
import type http from 'node:http';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { GlomsegService } from '@glomseg/shared/glomseg-service.js';
import { asGlomsegError, httpStatusOf } from '@glomseg/api/error-codes.js';
import { checkViewerTile } from '@glomseg/api/server/request-checks.js';
import { viewerPageHtml } from './viewer-page.js';
import { decodePathSegment } from './path-segment.js';
import type { ServingSecurity } from '../security/serving-security.js';

export interface WebServerDemo {
  /** Slide the page at `/` opens. */
  slideId: string;
  /** Ground-truth file on disk, served read-only at /api/demo/annotations. */
  annotationsPath?: string;
  /** URL the page loads annotations from; defaults to /api/demo/annotations when annotationsPath is set. */
  annotationsUrl?: string;
}

/** What the routes serve from (the web server's options). */
export interface ViewerRoutesOptions {
  service: GlomsegService;
  demo?: WebServerDemo;
  log?: (message: string) => void;
  security?: ServingSecurity;
  /** Extra plain routes (e.g. /metrics), tried before the built-in ones; true when handled. */
  extraRoutes?: (request: http.IncomingMessage, response: http.ServerResponse, pathname: string) => Promise<boolean>;
}

export const BUNDLE_PATH = '/plugin/glomseg-plugin.js';

/** What a browser loads before it holds a token: the viewer page and the plugin bundle. */
export function isOpenPath(pathname: string): boolean {
  return pathname === '/' || pathname === '/index.html' || pathname.startsWith('/plugin/');
}

const TILE_ROUTE = /^\/api\/slides\/([^/]+)\/tiles\/(\d+)\/(\d+)\/(\d+)$/;
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function sendJsonError(response: http.ServerResponse, error: unknown, log?: (message: string) => void): void {
  const glomsegError = asGlomsegError(error, log);
  if (response.headersSent) {
    response.destroy(glomsegError);
    return;
  }
  const body = JSON.stringify({ error: { code: glomsegError.code, message: glomsegError.message } });
  response.writeHead(httpStatusOf(glomsegError.code), {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  });
  response.end(body);
}

/** An AbortSignal that fires when the client goes away before the response is finished. */
function clientSignal(request: http.IncomingMessage, response: http.ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(new GlomsegError('CANCELLED', 'the browser closed the request'));
  });
  return controller.signal;
}

/** `pathname`: the guard's canonical path (see canonical-path.ts), never a parse of `request.url` of our own. */
export async function handleHttp(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  pathname: string,
  options: ViewerRoutesOptions,
  staticRoot: string,
): Promise<void> {
  try {
    if (options.extraRoutes && (await options.extraRoutes(request, response, pathname))) return;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new GlomsegError('INVALID_ARGUMENT', `${request.method} is not supported on ${pathname}`);
    }
    if (pathname === '/' || pathname === '/index.html') {
      const demo = options.demo;
      const annotationsUrl = demo?.annotationsUrl ?? (demo?.annotationsPath ? '/api/demo/annotations' : undefined);
      const html = viewerPageHtml({ bundleUrl: BUNDLE_PATH, slideId: demo?.slideId, annotationsUrl });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      response.end(html);
      return;
    }
    if (pathname.startsWith('/plugin/')) {
      await sendStaticFile(response, staticRoot, pathname.slice('/plugin/'.length));
      return;
    }
    const tileMatch = TILE_ROUTE.exec(pathname);
    if (tileMatch) {
      const [, encodedId, level, col, row] = tileMatch;
      const tile = await options.service.readViewerTile(
        checkViewerTile({
          slideId: decodePathSegment(encodedId),
          level: Number(level),
          col: Number(col),
          row: Number(row),
        }),
        clientSignal(request, response),
      );
      response.writeHead(200, {
        'content-type': tile.contentType,
        'content-length': tile.data.byteLength,
        // Behind a token a tile is the token holder's: no shared cache (a proxy) may hand it to anyone else.
        'cache-control': options.security?.tokens ? 'private, max-age=3600' : 'public, max-age=3600',
        'x-glomseg-passthrough': String(tile.passthrough),
      });
      response.end(tile.data);
      return;
    }
    if (pathname === '/api/demo/annotations') {
      const file = options.demo?.annotationsPath;
      if (!file) throw new GlomsegError('NOT_FOUND', 'this server was started without demo annotations');
      const content = await readFile(file);
      response.writeHead(200, {
        'content-type': 'application/geo+json',
        'content-disposition': `inline; filename="${path.basename(file).replace(/"/g, '')}"`,
        'cache-control': 'no-cache',
      });
      response.end(content);
      return;
    }
    throw new GlomsegError('NOT_FOUND', `nothing is served at ${pathname}`);
  } catch (error) {
    sendJsonError(response, error, options.log);
  }
}

async function sendStaticFile(response: http.ServerResponse, root: string, relative: string): Promise<void> {
  const file = path.resolve(root, decodePathSegment(relative));
  if (!file.startsWith(path.resolve(root) + path.sep)) throw new GlomsegError('NOT_FOUND', `no file ${relative}`);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new GlomsegError('NOT_FOUND', `no file ${relative} in the plugin bundle folder`);
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
  });
  createReadStream(file).pipe(response);
}
