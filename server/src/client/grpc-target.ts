/**
 * `--server` takes any gRPC target: `host:port`, `dns:///glomseg-headless.lab.svc:50051` (a headless Service: one
 * address per pod) or `ipv4:127.0.0.1:50061,127.0.0.1:50062`. grpc-js resolves it and balances calls over every
 * address with `round_robin`, skipping servers that are down: client-side balancing, no proxy in between.
 */
import type { ChannelOptions } from '@grpc/grpc-js';

export const ROUND_ROBIN_SERVICE_CONFIG = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

export function balancedChannelOptions(): ChannelOptions {
  return {
    'grpc.service_config': ROUND_ROBIN_SERVICE_CONFIG,
    // A DNS name is re-resolved at most this often (ms), so pods that come and go are picked up.
    'grpc.dns_min_time_between_resolutions_ms': 5000,
  };
}
