import { describe, expect, it } from 'vitest';
import { parseProcStatCpuSeconds, readProcessCpuSeconds } from '../../../server/src/bench/process-cpu.js';

describe('parseProcStatCpuSeconds', () => {
  it('adds utime and stime (fields 14 and 15, in 1/100 s), even when the command name holds spaces and parentheses', () => {
    const line =
      '4242 (node (vitest 1)) S 1 4242 4242 0 -1 4194304 9999 0 3 0 1234 56 0 0 20 0 11 0 266825 3133440 389';
    expect(parseProcStatCpuSeconds(line)).toBeCloseTo(12.9, 6);
    expect(() => parseProcStatCpuSeconds('garbage')).toThrow(/not a \/proc\/<pid>\/stat line/);
  });

  it('sees this process burn CPU', async () => {
    const before = await readProcessCpuSeconds(process.pid);
    // Burn 150 ms of CPU as the kernel counts it (getrusage), not of wall-clock: a busy machine cannot shorten it.
    const start = process.cpuUsage();
    let x = 0;
    while ((({ user, system }) => user + system)(process.cpuUsage(start)) < 150_000)
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect((await readProcessCpuSeconds(process.pid)) - before).toBeGreaterThanOrEqual(0.05);
  });
});
