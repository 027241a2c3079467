/**
 * Which URLs a server may fetch slides from. Slide ids that are URLs (`https://…`, `http://…`, `s3://bucket/key`)
 * are read only when they fall under a prefix the operator allowed (`--slide-url-prefix`): without one the server
 * would be an open proxy, fetching whatever address a client names (cloud metadata endpoints, internal services).
 * A URL matches a prefix when scheme, host and port are equal and its normalised path continues the prefix's path
 * (a prefix ending in '/' is a folder; one with a query matches only itself, as a presigned URL must).
 */
import { GlomsegError } from '@glomseg/shared/errors.js';

const URL_SCHEMES = ['https:', 'http:', 's3:'];

/** Slide ids the server reads over HTTP(S) or from S3 rather than from its slide folders. */
export function isSlideUrl(id: string): boolean {
  return /^(https?|s3):\/\//i.test(id);
}

function parse(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GlomsegError('INVALID_ARGUMENT', `${what} '${text}' is not a valid URL`);
  }
  if (!URL_SCHEMES.includes(url.protocol)) throw new GlomsegError('INVALID_ARGUMENT', `${what} '${text}': only https://, http:// and s3:// URLs are read`);
  if (url.username || url.password) throw new GlomsegError('INVALID_ARGUMENT', `${what} '${text}' carries a user name or password; use a presigned URL instead`);
  url.hash = '';
  return url;
}

export class SlideUrlPolicy {
  private readonly prefixes: URL[];

  constructor(prefixes: readonly string[]) {
    this.prefixes = prefixes.map((p) => parse(p, 'slide URL prefix'));
  }

  get empty(): boolean {
    return this.prefixes.length === 0;
  }

  /** The URL to fetch for a slide id, or INVALID_ARGUMENT saying why it may not be fetched. */
  check(id: string): URL {
    const url = parse(id, 'slide URL');
    if (this.prefixes.some((prefix) => matches(prefix, url))) return url;
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      this.prefixes.length === 0
        ? `slide URL ${url.origin}${url.pathname} is not allowed: this server reads slides by URL only under --slide-url-prefix`
        : `slide URL ${url.origin}${url.pathname} is not under an allowed prefix (${this.prefixes.map((p) => p.href).join(', ')})`,
    );
  }
}

function matches(prefix: URL, url: URL): boolean {
  if (prefix.protocol !== url.protocol || prefix.host !== url.host) return false;
  if (prefix.search) return prefix.pathname === url.pathname && prefix.search === url.search;
  if (prefix.pathname.endsWith('/')) return url.pathname.startsWith(prefix.pathname);
  return url.pathname === prefix.pathname || url.pathname.startsWith(`${prefix.pathname}/`);
}
