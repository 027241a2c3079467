/** The options and connection of commands that talk to a running server (adapt, models): address, token, TLS CA. */
import type { Command } from 'commander';
import { connectGlomseg, type GlomsegConnection } from '../client/grpc-client.js';
import { loadClientAuth } from '../client/client-credentials.js';

export interface RemoteServerFlags {
  server: string;
  tokenFile?: string;
  tlsCa?: string;
}

export function addRemoteServerOptions(command: Command): Command {
  return command
    .option('--server <host:port>', 'glomseg gRPC server', '127.0.0.1:50051')
    .option('--token-file <file>', 'bearer token for the server (first line of the file)')
    .option('--tls-ca <file>', 'PEM CA to trust: talk TLS to the server');
}

/** Runs `body` with a connection to the server, closed afterwards. */
export async function withRemoteServer<T>(
  flags: RemoteServerFlags,
  body: (connection: GlomsegConnection) => Promise<T>,
): Promise<T> {
  const auth = await loadClientAuth({ tokenFile: flags.tokenFile, tlsCa: flags.tlsCa });
  const connection = await connectGlomseg(flags.server, 10_000, auth);
  try {
    return await body(connection);
  } finally {
    connection.close();
  }
}
