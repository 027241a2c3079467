/**
 * A plaintext port that serves grpc.health.v1 and nothing else, for Kubernetes' gRPC probes: the kubelet speaks no
 * TLS, so with --tls-cert it cannot probe the main port. The port shares the main server's health statuses (the
 * drain's NOT_SERVING, 'liveness' SERVING to the end) and carries no slide, no model and no token.
 */
import * as grpc from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';

export class HealthPort {
  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
  ) {}

  static async listen(options: { health: HealthImplementation; host: string; port: number }): Promise<HealthPort> {
    // Small messages only, few streams: a probe sends one short request.
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 4096, 'grpc.max_concurrent_streams': 16 });
    options.health.addToServer(server);
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (error)
          reject(
            new Error(`cannot listen for health checks on ${host}:${options.port} (--health-port): ${error.message}`),
          );
        else resolve(bound);
      });
    });
    return new HealthPort(server, `${host}:${port}`);
  }

  close(): void {
    this.server.forceShutdown();
  }
}
