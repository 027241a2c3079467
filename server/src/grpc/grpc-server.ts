/** The native gRPC server: glomseg.v1.Glomseg plus standard health checking and reflection. */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { GlomsegService } from '../service/types.js';
import { createHandlers } from './handlers.js';
import { grpcServiceDefinition } from './service-definition.js';
import { MAX_MESSAGE_BYTES, SERVICE_NAME } from './proto.js';
import { addReflection } from './reflection.js';
import { CallDrainer } from './drain.js';

/** The health service name a liveness probe asks for (readiness asks for '' or glomseg.v1.Glomseg). */
export const LIVENESS_SERVICE = 'liveness';

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
    private readonly drainer: CallDrainer,
    private readonly log: (message: string) => void,
  ) {}

  static async start(options: GrpcServerOptions): Promise<GrpcServer> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    const drainer = new CallDrainer();
    server.addService(grpcServiceDefinition(), drainer.wrap(createHandlers(options.service, options.log ?? (() => {}))));
    // LIVENESS_SERVICE stays SERVING while draining: a liveness probe must not restart a pod that is finishing work.
    const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING', [LIVENESS_SERVICE]: 'SERVING' });
    health.addToServer(server);
    addReflection(server);
    const host = options.host ?? '127.0.0.1';
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(error) : resolve(boundPort),
      ),
    );
    return new GrpcServer(server, `${host.includes(':') ? `[${host}]` : host}:${port}`, port, health, drainer, options.log ?? (() => {}));
  }

  /**
   * Drains (see drain.ts): health NOT_SERVING, new calls refused with UNAVAILABLE, running ones given `graceMs` to
   * finish and then ended with UNAVAILABLE; then the server stops.
   */
  async close(graceMs = 2000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    const active = this.drainer.activeCalls;
    if (active > 0) this.log(`draining: ${active} calls in progress, up to ${(graceMs / 1000).toFixed(0)} s to finish`);
    const { finished, cancelled } = await this.drainer.drain(graceMs);
    if (active > 0) this.log(`drained: ${finished} calls finished, ${cancelled} cancelled (UNAVAILABLE, to be retried elsewhere)`);
    await new Promise<void>((resolve) => {
      // Only health watchers and cancelled calls are left: a short wait for their status to go out.
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, Math.min(graceMs, 1000));
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
