/**
 * The one path a request is judged and routed by. Rather than rewrite a path (and risk the guard and a router
 * reading it differently), only a path that no URL parser would rewrite is accepted; any other is the client's
 * mistake (INVALID_ARGUMENT, HTTP 400) before any route runs. The accepted path is the raw one, so the guard,
 * our router and connect's router (which matches the raw `request.url`) all see the same string.
 *
 * The rule, for the request target up to its '?' (the query is not read for routing):
 * - origin-form: it starts with '/' (no `http://host/…` absolute form, no '*');
 * - only RFC 3986 path characters (unreserved, sub-delims, ':', '@', '/', '%'): no backslash (WHATWG parsers read
 *   it as '/'), no raw space, control, quote, bracket or non-ASCII byte (a browser sends those percent-encoded);
 * - every '%' starts a %XX escape; none encodes an unreserved character (A-Z a-z 0-9 - . _ ~, never encoded in a
 *   canonical URL, RFC 3986 §6.2.2.2: so '%2e' cannot hide a dot), '\' (%5C) or a control character;
 * - no empty segment ('//') except a trailing '/', no '.' or '..' segment; and the same after splitting again at
 *   every %2F, so a server that decodes %2F sees no dot or empty segment either. (%2F itself stays allowed inside a
 *   segment: the viewer sends slide ids in subfolders as one encoded segment, `sub%2Fslide.svs`.)
 */
import { GlomsegError } from '@glomseg/shared/errors.js';

const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const SHOWN_LENGTH = 200;

function shown(path: string): string {
  const short = path.length > SHOWN_LENGTH ? `${path.slice(0, SHOWN_LENGTH)}…` : path;
  return short.replace(/[^\x21-\x7e…]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Why `path` is not canonical, or undefined when it is. */
function flaw(target: string, path: string): string | undefined {
  if (!target.startsWith('/')) return "is not a path starting with '/' (absolute-form and '*' targets are not served)";
  if (path.includes('\\')) return "has a backslash, which URL parsers read as '/'";
  if (!PATH_CHARACTERS.test(path)) return 'has a character that a URL must percent-encode';
  for (const match of path.matchAll(/%(.{0,2})/gs)) {
    if (!/^[0-9A-Fa-f]{2}$/.test(match[1])) return `has malformed percent-encoding ('${match[0]}')`;
    const c = String.fromCharCode(parseInt(match[1], 16));
    if (c === '.') return `percent-encodes '.' (${match[0]}), which URL parsers decode: '%2e%2e' is a '..' segment`;
    if (UNRESERVED.test(c)) return `percent-encodes '${c}' (${match[0]}), which a canonical URL never encodes`;
    if (c === '\\') return `percent-encodes a backslash (${match[0]}), which a server may read as '/'`;
    if (c < ' ' || c === '\x7f') return `percent-encodes a control character (${match[0]})`;
  }
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '' && i < segments.length - 1) return "has an empty segment ('//')";
    if (segment === '.' || segment === '..') return `has a '${segment}' segment`;
    const pieces = segment.split(/%2F/i);
    if (pieces.length > 1 && pieces.some((p) => p === '' || p === '.' || p === '..')) {
      return "has an encoded '/' (%2F) that, decoded, makes an empty, '.' or '..' segment";
    }
  }
  // The rules above leave nothing for a URL parser to rewrite; should they ever miss a case, refuse it all the same.
  if (new URL(path, 'http://canonical.invalid').pathname !== path) return 'is rewritten by a URL parser';
  return undefined;
}

/**
 * The path of a request target (`request.url`) when it is canonical (see above); INVALID_ARGUMENT naming the rule
 * it breaks otherwise.
 */
export function canonicalPath(target: string | undefined): string {
  const raw = target ?? '';
  const path = raw.split('?', 1)[0];
  const why = flaw(raw, path);
  if (why === undefined) return path;
  throw new GlomsegError(
    'INVALID_ARGUMENT',
    `refused request path '${shown(path)}': it ${why}. Send the path as a URL parser leaves it (no '.', '..' or empty segments, no backslash, no percent-encoded unreserved characters)`,
  );
}
