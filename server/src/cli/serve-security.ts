/**
 * `serve`'s security and limit options, from flags and an optional JSON config file with the same names
 * (flags win): bearer tokens, TLS for both ports, CORS origins, host names, cost bounds, connection bounds.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { BearerTokens } from '../security/bearer-tokens.js';
import { loadTls } from '../security/tls-files.js';
import type { ServingSecurity } from '../security/serving-security.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER } from '../security/socket-gate.js';
import { DEFAULT_LIMITS, type ServingLimits } from '../validation/limits.js';
import { positiveInteger } from './option-parsers.js';

/** The socket gate's bounds (security/socket-gate.ts), on each port. */
export interface ConnectionBounds {
  maxConnections?: number;
  maxConnectionsPerPeer?: number;
}
const CONNECTION_KEYS: ReadonlyArray<keyof ConnectionBounds> = ['maxConnections', 'maxConnectionsPerPeer'];

export interface ServeSecurityFlags {
  config?: string;
  authTokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  corsOrigin?: string[];
  allowedHost?: string[];
  maxConnections?: number;
  maxConnectionsPerPeer?: number;
}

interface ConfigFile extends Omit<ServeSecurityFlags, 'config' | keyof ConnectionBounds> {
  limits?: Partial<ServingLimits>;
  connections?: ConnectionBounds;
}

const CONFIG_KEYS = new Set([
  'authTokenFile',
  'tlsCert',
  'tlsKey',
  'tlsClientCa',
  'corsOrigin',
  'allowedHost',
  'limits',
  'connections',
]);

export function addServeSecurityOptions(command: Command): Command {
  return command
    .option(
      '--config <file>',
      'JSON file with any of: authTokenFile, tlsCert, tlsKey, tlsClientCa, corsOrigin[], allowedHost[], limits{}, connections{maxConnections, maxConnectionsPerPeer}',
    )
    .option('--auth-token-file <file>', 'bearer tokens, one per line: every call but health needs one')
    .option('--tls-cert <file>', 'PEM certificate chain for both ports (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--tls-client-ca <file>', 'PEM CA that client certificates must be signed by (mutual TLS)')
    .addOption(
      new Option(
        '--cors-origin <origin...>',
        'web origins allowed to call from a browser (default: loopback pages only)',
      ),
    )
    .addOption(
      new Option(
        '--allowed-host <name...>',
        'host names the HTTP port answers to, beyond loopback and the bind address',
      ),
    )
    .option(
      '--max-connections <n>',
      `open sockets at most, on each port; at the cap a new one pushes out the oldest that made no authenticated call (default ${DEFAULT_MAX_CONNECTIONS})`,
      positiveInteger,
    )
    .option(
      '--max-connections-per-peer <n>',
      `open sockets at most from one peer address (an IPv6 /64), on each port (default ${DEFAULT_MAX_CONNECTIONS_PER_PEER}); behind a proxy, at least the connections it opens to this server`,
      positiveInteger,
    );
}

async function readConfig(file: string): Promise<ConfigFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${file}: the config must be a JSON object`);
  for (const key of Object.keys(parsed))
    if (!CONFIG_KEYS.has(key)) throw new Error(`${file}: unknown setting '${key}'`);
  const config = parsed as ConfigFile;
  for (const key of Object.keys(config.limits ?? {}))
    if (!(key in DEFAULT_LIMITS)) throw new Error(`${file}: unknown limit '${key}'`);
  if (
    config.connections !== undefined &&
    (typeof config.connections !== 'object' || config.connections === null || Array.isArray(config.connections))
  ) {
    throw new Error(`${file}: connections must be an object (${CONNECTION_KEYS.join(', ')})`);
  }
  for (const [key, value] of Object.entries(config.connections ?? {})) {
    if (!CONNECTION_KEYS.includes(key as keyof ConnectionBounds))
      throw new Error(`${file}: unknown connection setting '${key}' (known: ${CONNECTION_KEYS.join(', ')})`);
    if (!Number.isInteger(value) || (value as number) < 1)
      throw new Error(`${file}: connections.${key} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  // Paths in the file are relative to the file.
  const base = path.dirname(path.resolve(file));
  for (const key of ['authTokenFile', 'tlsCert', 'tlsKey', 'tlsClientCa'] as const)
    if (config[key]) config[key] = path.resolve(base, config[key]!);
  return config;
}

export async function resolveServeSecurity(
  flags: ServeSecurityFlags,
): Promise<{ security: ServingSecurity; limits?: Partial<ServingLimits>; connections: ConnectionBounds }> {
  const config = flags.config ? await readConfig(flags.config) : {};
  const pick = <K extends keyof ConfigFile>(key: K) => (flags as ConfigFile)[key] ?? config[key];
  const tokenFile = pick('authTokenFile') as string | undefined;
  const cert = pick('tlsCert') as string | undefined;
  const key = pick('tlsKey') as string | undefined;
  const clientCa = pick('tlsClientCa') as string | undefined;
  if (Boolean(cert) !== Boolean(key)) throw new Error('--tls-cert and --tls-key go together');
  if (clientCa && !cert) throw new Error('--tls-client-ca needs --tls-cert and --tls-key');
  const connections: ConnectionBounds = {
    maxConnections: flags.maxConnections ?? config.connections?.maxConnections,
    maxConnectionsPerPeer: flags.maxConnectionsPerPeer ?? config.connections?.maxConnectionsPerPeer,
  };
  // Unset, the per-peer bound is at most the cap; set above it, it could never be reached.
  const cap = connections.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (connections.maxConnectionsPerPeer !== undefined && connections.maxConnectionsPerPeer > cap) {
    throw new Error(
      `--max-connections-per-peer (${connections.maxConnectionsPerPeer}) is more than --max-connections (${cap}): no peer could reach it`,
    );
  }
  return {
    security: {
      tokens: tokenFile ? await BearerTokens.load(tokenFile) : undefined,
      tls: cert && key ? await loadTls({ certFile: cert, keyFile: key, clientCaFile: clientCa }) : undefined,
      corsOrigins: pick('corsOrigin') as string[] | undefined,
      allowedHosts: pick('allowedHost') as string[] | undefined,
    },
    limits: config.limits,
    connections,
  };
}
