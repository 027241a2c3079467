/**
 * `--shard i/N`: a deterministic share of a batch's slides. A slide belongs to shard hash(name) mod N, so the
 * share does not depend on the order or number of the other inputs, every pod of a Kubernetes Indexed Job
 * (`--shard $(JOB_COMPLETION_INDEX)/N`) computes the same split, and the N shards together are the whole batch.
 */
import { createHash } from 'node:crypto';

export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/N` (0 <= i < N); `env/N` reads i from JOB_COMPLETION_INDEX, as a Kubernetes Indexed Job sets it. */
export function parseShard(value: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const match = /^(\d+|env)\/(\d+)$/.exec(value.trim());
  if (!match) throw new Error(`'${value}' is not a shard i/N (e.g. 0/4, or env/4 to take i from JOB_COMPLETION_INDEX)`);
  const count = Number(match[2]);
  let indexText = match[1];
  if (indexText === 'env') {
    indexText = env.JOB_COMPLETION_INDEX ?? '';
    if (!/^\d+$/.test(indexText))
      throw new Error(`--shard ${value}: JOB_COMPLETION_INDEX is not set to a number (got '${indexText}')`);
  }
  const index = Number(indexText);
  if (count < 1 || index >= count)
    throw new Error(`shard ${index}/${count}: the index must be at least 0 and below the count`);
  return { index, count };
}

/** The shard a slide (by its output name) belongs to. */
export function shardOf(name: string, count: number): number {
  const digest = createHash('sha256').update(name).digest();
  return digest.readUInt32BE(0) % count;
}

export function inShard(name: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(name, shard.count) === shard.index;
}
