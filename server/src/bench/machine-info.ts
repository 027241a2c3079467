/** What a benchmark ran on: CPU, cores, memory, load, Node and ONNX Runtime versions, and the GPU if any. */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { promisify } from 'node:util';
import sharp from 'sharp';

export interface MachineInfo {
  cpuModel: string;
  /** Cores Node may use (cgroup/affinity aware). */
  cores: number;
  memoryBytes: number;
  platform: string;
  kernel: string;
  node: string;
  onnxruntime: string;
  sharp: string;
  /** NVIDIA GPUs as `nvidia-smi -L` lists them; empty where there is none (or no driver). */
  gpus: string[];
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews the figures. */
  loadAverage: number[];
}

export async function machineInfo(): Promise<MachineInfo> {
  const require = createRequire(import.meta.url);
  const version = (name: string): string => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return {
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    node: process.version,
    onnxruntime: version('onnxruntime-node'),
    sharp: `${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
    gpus: await nvidiaGpus(),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function nvidiaGpus(): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)('nvidia-smi', ['-L'], { timeout: 10_000 });
    return stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}
