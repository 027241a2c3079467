/** The native gRPC server: glomseg.v1.Glomseg plus standard health checking and reflection. */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { GlomsegService } from '../service/types.js';
import { createHandlers } from './handlers.js';
import { grpcServiceDefinition } from './service-definition.js';
import { MAX_MESSAGE_BYTES, SERVICE_NAME } from './proto.js';
import { addReflection } from './reflection.js';

export interface GrpcServerOptions {
  service: GlomsegService;
  host?: string;
  port?: number;
  log?: (message: string) => void;
}

export class GrpcServer {
  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    readonly port: number,
    private readonly health: HealthImplementation,
  ) {}

  static async start(options: GrpcServerOptions): Promise<GrpcServer> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    server.addService(grpcServiceDefinition(), createHandlers(options.service, options.log ?? (() => {})));
    const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
    health.addToServer(server);
    addReflection(server);
    const host = options.host ?? '127.0.0.1';
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(error) : resolve(boundPort),
      ),
    );
    return new GrpcServer(server, `${host.includes(':') ? `[${host}]` : host}:${port}`, port, health);
  }

  /** Stops accepting calls, lets running ones finish for `graceMs`, then cancels the rest. */
  async close(graceMs = 2000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
