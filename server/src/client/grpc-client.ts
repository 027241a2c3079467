/** The typed glomseg client of the CLI, benches and tests: connect's client API over a grpc-js channel. */
import type { ChannelOptions } from '@grpc/grpc-js';
import { createClient, type Client } from '@connectrpc/connect';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { GrpcJsTransport } from './grpc-js-transport.js';
import { balancedChannelOptions } from './grpc-target.js';
import type { ClientAuth } from './client-credentials.js';

export type GlomsegApi = Client<typeof Glomseg>;

export interface GlomsegConnection {
  readonly address: string;
  readonly api: GlomsegApi;
  close(): void;
}

/** Connects to `address` (any gRPC target, balanced round-robin) and waits until a server answers. */
export async function connectGlomseg(
  address: string,
  timeoutMs = 10_000,
  auth?: ClientAuth,
  channelOptions: ChannelOptions = {},
): Promise<GlomsegConnection> {
  const transport = new GrpcJsTransport(address, {
    credentials: auth?.credentials,
    metadata: auth?.metadata,
    channelOptions: { ...balancedChannelOptions(), ...channelOptions },
  });
  try {
    await transport.ready(timeoutMs);
  } catch (error) {
    transport.close();
    throw error;
  }
  return { address, api: createClient(Glomseg, transport), close: () => transport.close() };
}
