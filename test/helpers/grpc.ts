/** Promise helpers over a real @grpc/grpc-js client, for the integration tests. */
import * as grpc from '@grpc/grpc-js';

export function unary<T = any>(client: any, method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve(response))));
}

export async function collect<T = any>(client: any, method: string, request: object): Promise<T[]> {
  const out: T[] = [];
  for await (const message of client[method](request)) out.push(message as T);
  return out;
}

/** The gRPC status a call ends with (OK when it succeeds). */
export async function statusOf(call: Promise<unknown>): Promise<{ code: grpc.status; details: string }> {
  try {
    await call;
    return { code: grpc.status.OK, details: '' };
  } catch (error) {
    const e = error as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
}
