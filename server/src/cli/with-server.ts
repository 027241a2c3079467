/** A gRPC server for a CLI command to talk to: the one given, or one started in this process on a loopback port. */
import { GlomsegApp } from '../app.js';
import { NO_GPU_FOUND } from '../inference/gpu-presence.js';
import { connectGlomseg, type GlomsegConnection } from '../client/grpc-client.js';
import { loadClientAuth } from '../client/client-credentials.js';
import type { DeviceChoice } from '../inference/execution-providers.js';
import { log } from './commands/command.js';

export async function withServer<T>(
  options: {
    server?: string;
    models: string;
    device: DeviceChoice;
    slideFiles: string[];
    slideUrls?: string[];
    warm?: boolean;
    tokenFile?: string;
    tlsCa?: string;
  },
  body: (client: GlomsegConnection) => Promise<T>,
): Promise<T> {
  let app: GlomsegApp | undefined;
  let address = options.server;
  if (!address) {
    app = await GlomsegApp.start({
      slideFolders: [],
      slideFiles: options.slideFiles,
      // The slides the user named by URL, and nothing else, may be fetched.
      slideUrlPrefixes: options.slideUrls,
      modelFolder: options.models,
      device: options.device,
      httpPort: false,
      grpcPort: 0,
      // The model loads before any progress is drawn, so its one line about the device cannot cut through the bar.
      warm: options.warm,
      log: (m) => (process.env.GLOMSEG_VERBOSE || m.includes(NO_GPU_FOUND) ? log(m) : undefined),
    });
    address = app.grpcAddress;
  }
  // Credentials are for a named server; the in-process one is loopback-only and open.
  const auth = options.server ? await loadClientAuth(options) : undefined;
  const client = await connectGlomseg(address, undefined, auth);
  try {
    return await body(client);
  } finally {
    client.close();
    await app?.close();
  }
}
