/** `glomseg health`: one grpc.health.v1 Check, for container HEALTHCHECKs where Kubernetes' own gRPC probe is absent. */
import { createClient } from '@connectrpc/connect';
import { describeCallError } from '@glomseg/api/error-codes.js';
import { Health, HealthCheckResponse_ServingStatus } from '@glomseg/api/gen/health/v1/health_pb.js';
import { GrpcJsTransport } from '../client/grpc-js-transport.js';

export async function checkHealth(target: string, service: string, timeoutMs: number): Promise<string> {
  const transport = new GrpcJsTransport(target);
  try {
    const response = await createClient(Health, transport).check({ service }, { timeoutMs });
    return HealthCheckResponse_ServingStatus[response.status];
  } catch (error) {
    throw new Error(`health check of ${target} failed: ${describeCallError(error)}`);
  } finally {
    transport.close();
  }
}
