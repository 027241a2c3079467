/**
 * Health checks (grpc.health.v1 Check) back to back while a piece of work runs: how the server answered its
 * operator's probe meanwhile (p50 / p99 / max latency and failures), beside the work's own status and time.
 */
import type { createClient } from '@connectrpc/connect';
import type { Health } from '@glomseg/api/gen/health/v1/health_pb.js';

export type HealthClient = ReturnType<typeof createClient<typeof Health>>;

export interface HealthWhile {
  /** What the work answered. */
  status: string;
  seconds: number;
  probes: number;
  p50: number;
  p99: number;
  max: number;
  failed: number;
}

export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN;
}

export async function healthWhile(health: HealthClient, work: Promise<string>): Promise<HealthWhile> {
  const latencies: number[] = [];
  let failed = 0;
  let done = false;
  const started = performance.now();
  const probing = (async () => {
    while (!done) {
      const t0 = performance.now();
      const ok = await health.check({ service: 'glomseg.v1.Glomseg' }, { timeoutMs: 10_000 }).then(
        () => true,
        () => false,
      );
      latencies.push(performance.now() - t0);
      if (!ok) failed++;
    }
  })();
  const status = await work;
  const seconds = (performance.now() - started) / 1000;
  done = true;
  await probing;
  latencies.sort((a, b) => a - b);
  return {
    status,
    seconds,
    probes: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    failed,
  };
}

/** The table row's health columns: case s | probes | p50 | p99 | max | failed. */
export function healthColumns(r: HealthWhile): string {
  return `${r.seconds.toFixed(1)} | ${r.probes} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.failed}`;
}
