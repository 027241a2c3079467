/**
 * Whether this machine can have a GPU for ONNX Runtime at all, decided from files alone, before any provider is
 * loaded. Dawn (the WebGPU provider) prints its own C++ warnings straight to stderr when it is asked for an adapter
 * on a machine without one, so the server asks here first and says what is missing in its own words.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface GpuPresence {
  /** A GPU device node (/dev/dri/renderD*, /dev/nvidia0...), or undefined. */
  deviceNode?: string;
  /** Where the Vulkan loader that WebGPU needs was found, or undefined. */
  vulkanLoader?: string;
}

/** Words for the log when there is no GPU at all: the common case on CPU machines, said once per model. */
export const NO_GPU_FOUND = 'no GPU found';

export const VULKAN_LOADER = 'libvulkan.so.1';
const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
];

export function probeGpu(env: NodeJS.ProcessEnv = process.env): GpuPresence {
  return { deviceNode: findDeviceNode(), vulkanLoader: findLibrary(VULKAN_LOADER, env) };
}

function findDeviceNode(): string | undefined {
  for (const [folder, pattern] of [
    ['/dev/dri', /^renderD\d+$/],
    ['/dev', /^nvidia\d+$/],
  ] as const) {
    try {
      const name = readdirSync(folder).find((entry) => pattern.test(entry));
      if (name) return path.join(folder, name);
    } catch {
      // no such folder: no such device
    }
  }
  return undefined;
}

function findLibrary(file: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  for (const dir of dirs) if (existsSync(path.join(dir, file))) return path.join(dir, file);
  try {
    // The dynamic loader's own index of every library folder it knows (ldconfig writes it).
    if (readFileSync('/etc/ld.so.cache').includes(file)) return `/etc/ld.so.cache: ${file}`;
  } catch {
    // no cache: the folders above were the whole search
  }
  return undefined;
}
