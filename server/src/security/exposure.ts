/** The warning for a server reachable beyond this machine without credentials or encryption. */
import { isLoopbackHost } from './host-check.js';
import type { ServingSecurity } from './serving-security.js';

export function exposureWarning(
  bindHosts: readonly string[],
  security: ServingSecurity | undefined,
): string | undefined {
  const exposed = [...new Set(bindHosts.filter((host) => !isLoopbackHost(host)))];
  if (exposed.length === 0) return undefined;
  const missing = [
    security?.tokens ? undefined : 'no --auth-token-file',
    security?.tls ? undefined : 'no --tls-cert',
  ].filter(Boolean);
  if (missing.length === 0) return undefined;
  const bar = '!'.repeat(78);
  return [
    bar,
    `WARNING: listening on ${exposed.join(', ')} (beyond loopback) with ${missing.join(' and ')}:`,
    security?.tokens
      ? '  traffic, tokens included, travels in clear text.'
      : '  anyone who can reach this machine can read every slide and run the model.',
    '  Use --auth-token-file FILE and --tls-cert/--tls-key, or --host 127.0.0.1.',
    bar,
  ].join('\n');
}
