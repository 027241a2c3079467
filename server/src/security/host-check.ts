/**
 * The names this server answers to, checked against each HTTP request's Host header: a page on an attacker's
 * domain that re-points its DNS name at 127.0.0.1 (DNS rebinding) sends its own name as Host and is refused.
 */
import os from 'node:os';
import { GlomsegError } from '@glomseg/shared/errors.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export function isWildcardHost(host: string): boolean {
  return WILDCARDS.has(host.replace(/^\[|\]$/g, ''));
}

/**
 * The one Host header of a request, from its raw header list (Node keeps the first of several in `headers.host`).
 * More than one is INVALID_ARGUMENT (RFC 9112 §3.2: answer 400): a proxy and this server could each read another.
 */
export function singleHostHeader(rawHeaders: readonly string[]): string | undefined {
  let host: string | undefined;
  let count = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() !== 'host') continue;
    host = rawHeaders[i + 1];
    count++;
  }
  if (count > 1)
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `the request has more than one Host header (${count}); send exactly one`,
    );
  return host;
}

export class HostCheck {
  private readonly names: Set<string>;

  /** `bindHost`: the address listened on; `extra`: public names (e.g. the one a proxy or DNS gives). */
  constructor(bindHost: string, extra: readonly string[] = []) {
    const names = [...LOOPBACK_NAMES, ...extra];
    if (isWildcardHost(bindHost)) {
      // Every local address can reach a wildcard bind; the machine's own name too.
      for (const list of Object.values(os.networkInterfaces()))
        for (const entry of list ?? []) names.push(entry.address);
      names.push(os.hostname());
    } else {
      names.push(bindHost);
    }
    this.names = new Set(names.map((n) => n.replace(/^\[|\]$/g, '').toLowerCase()));
  }

  /** True when the Host header (`name`, `name:port`, `[v6]:port`) names this server. */
  allows(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    const match = /^(\[[^\]]+\]|[^:]+)(?::\d{1,5})?$/.exec(hostHeader.trim());
    if (!match) return false;
    return this.names.has(match[1].replace(/^\[|\]$/g, '').toLowerCase());
  }
}
