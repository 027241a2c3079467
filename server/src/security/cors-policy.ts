/**
 * Which web origins may call the HTTP edge from a browser. With a list, exactly those origins (scheme, host
 * and port) get a grant; without one, only pages served from loopback do (a portal on the same machine), so a
 * foreign site or an opaque `null` origin never gets one. No wildcard: the grant names the origin.
 */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

export class CorsPolicy {
  private readonly allowed: Set<string> | undefined;

  constructor(origins?: readonly string[]) {
    this.allowed = origins?.length ? new Set(origins.map(normalizeOrigin)) : undefined;
  }

  /** The origin to echo in Access-Control-Allow-Origin, or undefined for no grant. */
  grant(origin: string | undefined): string | undefined {
    if (!origin || origin === 'null') return undefined;
    let normalized: string;
    try {
      normalized = normalizeOrigin(origin);
    } catch {
      return undefined;
    }
    if (this.allowed) return this.allowed.has(normalized) ? origin : undefined;
    return LOOPBACK_ORIGIN.test(normalized) ? origin : undefined;
  }
}

/** `https://Portal.Example:443/` -> `https://portal.example` (what a browser sends as Origin). */
export function normalizeOrigin(origin: string): string {
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`'${origin}' is not an http(s) origin`);
  return url.origin;
}
