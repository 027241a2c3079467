/** What a CLI client presents to a server: a CA to trust for TLS and a bearer token (`--tls-ca`, `--token-file`). */
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';

export interface ClientAuth {
  credentials: grpc.ChannelCredentials;
  /** Sent with every call (`authorization: Bearer <token>`); plain metadata so it also works on loopback without TLS. */
  metadata: grpc.Metadata;
}

export async function loadClientAuth(options: { tokenFile?: string; tlsCa?: string }): Promise<ClientAuth> {
  const metadata = new grpc.Metadata();
  if (options.tokenFile) {
    // The first token line, as the server's token file writes it: TOKEN, or NAME TOKEN.
    const token = (await readFile(options.tokenFile, 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#'))
      ?.split(/\s+/)
      .at(-1);
    if (!token) throw new Error(`${options.tokenFile} holds no token`);
    metadata.set('authorization', `Bearer ${token}`);
  }
  const credentials = options.tlsCa
    ? grpc.credentials.createSsl(await readFile(options.tlsCa))
    : grpc.credentials.createInsecure();
  return { credentials, metadata };
}
