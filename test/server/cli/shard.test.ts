import { describe, expect, it } from 'vitest';
import { inShard, parseShard, shardOf } from '../../../server/src/cli/shard.js';

describe('--shard i/N', () => {
  it('parses i/N and env/N, refusing the rest with a message', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard('env/3', { JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('env/3', {})).toThrow(/JOB_COMPLETION_INDEX is not set/);
    expect(() => parseShard('4/4')).toThrow(/index must be/);
    expect(() => parseShard('0/0')).toThrow(/index must be/);
    expect(() => parseShard('a/b')).toThrow(/not a shard/);
  });

  it('puts every slide in exactly one shard, whatever the other inputs', () => {
    const names = Array.from({ length: 200 }, (_, i) => `slide-${i}`);
    const counts = [0, 0, 0, 0];
    for (const name of names) {
      const owners = [0, 1, 2, 3].filter((index) => inShard(name, { index, count: 4 }));
      expect(owners).toHaveLength(1);
      counts[owners[0]]++;
      expect(shardOf(name, 4)).toBe(owners[0]);
    }
    // Spread over all shards (200 names over 4: none empty, none with most).
    for (const c of counts) expect(c).toBeGreaterThan(25);
    expect(inShard('anything', undefined)).toBe(true);
  });
});
