/** `glomseg health`: one grpc.health.v1 Check, for container HEALTHCHECKs where Kubernetes' own gRPC probe is absent. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

export async function checkHealth(target: string, service: string, timeoutMs: number): Promise<string> {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })) as any;
  const client = new loaded.grpc.health.v1.Health(target, grpc.credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) =>
      client.Check({ service }, { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, response: { status: string }) =>
        error ? reject(new Error(`health check of ${target} failed: ${grpc.status[error.code]}: ${error.details}`)) : resolve(response.status),
      ),
    );
  } finally {
    client.close();
  }
}
