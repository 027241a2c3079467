import { describe, expect, it } from 'vitest';
import { parseProcStatus, readProcessMemory, RssSampler } from '../../../server/src/bench/rss-sampler.js';
import { until } from '../../helpers/until.js';

const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
Pid:\t4242
VmPeak:\t 1234568 kB
VmSize:\t 1200000 kB
VmHWM:\t  812345 kB
VmRSS:\t  701234 kB
RssAnon:\t  600000 kB
Threads:\t11
`;

describe('parseProcStatus', () => {
  it('reads VmRSS and VmHWM in bytes', () => {
    expect(parseProcStatus(STATUS)).toEqual({ rssBytes: 701_234 * 1024, hwmBytes: 812_345 * 1024 });
  });

  it('says which line is missing (a zombie process has no memory lines)', () => {
    expect(() => parseProcStatus('Name:\tnode\nState:\tZ (zombie)\n')).toThrow(/no VmRSS line/);
  });
});

describe('RssSampler', () => {
  it('samples a live process from /proc: resident set within its peak', async () => {
    const now = await readProcessMemory(process.pid);
    expect(now.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(now.hwmBytes).toBeGreaterThanOrEqual(now.rssBytes);

    const sampler = await RssSampler.start(process.pid, 20);
    const ballast = Buffer.alloc(64 * 1024 * 1024, 1); // touched pages: the RSS grows by about 64 MB
    // Wait for three samples after the ballast exists, however slowly the timer fires on a busy machine.
    const seen = sampler.summary().samples;
    await until(() => sampler.summary().samples >= seen + 3, 30_000, 5);
    const summary = await sampler.stop();
    expect(ballast[ballast.length - 1]).toBe(1);
    expect(summary.samples).toBeGreaterThanOrEqual(3);
    expect(summary.maxSampledRssBytes).toBeGreaterThanOrEqual(now.rssBytes + 48 * 1024 * 1024);
    expect(summary.hwmBytes).toBeGreaterThanOrEqual(summary.maxSampledRssBytes);
  });

  it('fails clearly for a process that does not exist', async () => {
    await expect(RssSampler.start(2 ** 22 + 12345)).rejects.toThrow(/ENOENT/);
  });
});
