/** Loads glomseg.v1 from proto/ with @grpc/proto-loader; server, CLI client and tests share these options. */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_ROOT = fileURLToPath(new URL('../../../proto/', import.meta.url));
export const PROTO_FILE = 'glomseg/v1/glomseg.proto';
export const SERVICE_NAME = 'glomseg.v1.Glomseg';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

let cached: { packageDefinition: protoLoader.PackageDefinition; service: grpc.ServiceDefinition; client: grpc.ServiceClientConstructor } | undefined;

export function loadGlomsegProto() {
  if (!cached) {
    const packageDefinition = protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
      glomseg: { v1: { Glomseg: grpc.ServiceClientConstructor } };
    };
    const client = loaded.glomseg.v1.Glomseg;
    cached = { packageDefinition, service: client.service, client };
  }
  return cached;
}

/** Message limits: annotations of a whole slide can be tens of megabytes. */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

/** A real @grpc/grpc-js client for glomseg.v1.Glomseg (CLI, tests and other Node services). */
export function createGlomsegClient(
  address: string,
  credentials = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): grpc.Client & Record<string, any> {
  const { client: Client } = loadGlomsegProto();
  return new Client(address, credentials, {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    ...options,
  }) as grpc.Client & Record<string, any>;
}
