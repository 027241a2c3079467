/**
 * Memory of another process, from Linux's /proc/<pid>/status: the resident set now (VmRSS) and its high-water
 * mark (VmHWM, the kernel's own peak, so short spikes between samples are not missed).
 */
import { readFile } from 'node:fs/promises';

export interface ProcessMemory {
  rssBytes: number;
  /** Peak resident set since the process started. */
  hwmBytes: number;
}

export interface RssSummary {
  samples: number;
  /** Largest VmRSS seen in the samples. */
  maxSampledRssBytes: number;
  /** VmHWM at the last sample: the true peak over the process's life so far. */
  hwmBytes: number;
  lastRssBytes: number;
}

/** Parses the VmRSS and VmHWM lines ("VmRSS:   123456 kB") of a /proc/<pid>/status text. */
export function parseProcStatus(text: string): ProcessMemory {
  const kilobytes = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    if (!match) throw new Error(`/proc status has no ${field} line (is the process a zombie, or is this not Linux?)`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kilobytes('VmRSS'), hwmBytes: kilobytes('VmHWM') };
}

export async function readProcessMemory(pid: number): Promise<ProcessMemory> {
  return parseProcStatus(await readFile(`/proc/${pid}/status`, 'utf8'));
}

/** Samples a process's memory every `intervalMs` until stopped; `summary()` can be read at any time. */
export class RssSampler {
  #samples = 0;
  #maxRss = 0;
  #hwm = 0;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();

  private constructor(readonly pid: number) {}

  static async start(pid: number, intervalMs = 200): Promise<RssSampler> {
    const sampler = new RssSampler(pid);
    await sampler.sample();
    sampler.#timer = setInterval(() => {
      sampler.#inFlight = sampler.sample().then(
        () => undefined,
        () => undefined, // the process may just have exited
      );
    }, intervalMs);
    sampler.#timer.unref();
    return sampler;
  }

  async sample(): Promise<ProcessMemory> {
    const memory = await readProcessMemory(this.pid);
    this.#samples++;
    this.#maxRss = Math.max(this.#maxRss, memory.rssBytes);
    this.#hwm = Math.max(this.#hwm, memory.hwmBytes);
    this.#last = memory.rssBytes;
    return memory;
  }

  /** Clears the sampled maximum (VmHWM cannot be reset from outside), e.g. before the phase to measure. */
  resetMax(): void {
    this.#maxRss = this.#last;
  }

  summary(): RssSummary {
    return { samples: this.#samples, maxSampledRssBytes: this.#maxRss, hwmBytes: this.#hwm, lastRssBytes: this.#last };
  }

  /** Takes one last sample (when the process is still there) and stops. */
  async stop(): Promise<RssSummary> {
    clearInterval(this.#timer);
    await this.#inFlight;
    await this.sample().catch(() => undefined);
    return this.summary();
  }
}
