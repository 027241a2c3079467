/**
 * Which URLs a server may fetch slides from. Slide ids that are URLs (`https://…`, `http://…`, `s3://bucket/key`)
 * are read only when they fall under a prefix the operator allowed (`--slide-url-prefix`): without one the server
 * would be an open proxy, fetching whatever address a client names (cloud metadata endpoints, internal services).
 * A URL matches a prefix when scheme, host and port are equal and its normalised path continues the prefix's path
 * (a prefix ending in '/' is a folder; one with a query matches only itself, as a presigned URL must).
 *
 * Normalised as a URL parser would, and then some, because a back end may decode what the parser leaves encoded:
 * escaped unreserved characters are decoded (`%2e` is '.', RFC 3986 §6.2.2.2), dot segments resolved, other
 * escapes upper-cased; an encoded '/' or '\' (%2F, %5C) or a raw '\' is refused, since a server that decodes it
 * would read `..%2f` as a step out of the prefix. The normalised URL is the one fetched.
 */
import { GlomsegError } from '@glomseg/shared/errors.js';

const URL_SCHEMES = ['https:', 'http:', 's3:'];
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

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
  if (!URL_SCHEMES.includes(url.protocol))
    throw new GlomsegError('INVALID_ARGUMENT', `${what} '${text}': only https://, http:// and s3:// URLs are read`);
  if (url.username || url.password)
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `${what} '${text}' carries a user name or password; use a presigned URL instead`,
    );
  url.hash = '';
  return normalisePath(url, text, what);
}

function normalisePath(url: URL, text: string, what: string): URL {
  const raw = url.pathname;
  if (/%(?![0-9A-Fa-f]{2})/.test(raw))
    throw new GlomsegError('INVALID_ARGUMENT', `${what} '${text}' has malformed percent-encoding in its path`);
  if (/%2F|%5C|\\/i.test(raw)) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `${what} '${text}' encodes '/' or '\\' in its path (%2F, %5C) or has a backslash: a server that decodes it could read outside the allowed prefix`,
    );
  }
  const decoded = raw.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : escape.toUpperCase();
  });
  // The pathname setter runs the URL parser's path rules again, so a '..' that was '%2e%2e' is resolved now.
  const normal = new URL(url.href);
  normal.pathname = decoded;
  return normal;
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
