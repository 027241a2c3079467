/** Certificates for both ports, read once at start: PEM server chain and key, optional client CA for mutual TLS. */
import { readFile } from 'node:fs/promises';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** When set, clients must present a certificate signed by this CA. */
  clientCa?: Buffer;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

export async function loadTls(files: TlsFiles, signal?: AbortSignal): Promise<TlsMaterial> {
  const read = (file: string, what: string) =>
    readFile(file, { signal }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read the TLS ${what} ${file}: ${error.code ?? error.message}`);
    });
  const [cert, key, clientCa] = await Promise.all([
    read(files.certFile, 'certificate'),
    read(files.keyFile, 'key'),
    files.clientCaFile ? read(files.clientCaFile, 'client CA') : undefined,
  ]);
  return { cert, key, clientCa };
}
