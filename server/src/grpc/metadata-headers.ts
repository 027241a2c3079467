/** grpc-js metadata as the fetch-style Headers connect's handlers and clients read (text entries; binary ones are dropped). */
import type * as grpc from '@grpc/grpc-js';

export function headersFromMetadata(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === 'string') headers.append(key, value);
  }
  return headers;
}
