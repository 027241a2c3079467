import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_GPU_FOUND, probeGpu } from '../../../server/src/inference/gpu-presence.js';
import { webgpuUnavailableReason } from '../../../server/src/inference/providers/webgpu.js';

describe('gpu-presence', () => {
  it('finds the Vulkan loader on LD_LIBRARY_PATH before the system folders', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-vulkan-'));
    try {
      await writeFile(path.join(folder, 'libvulkan.so.1'), '');
      expect(probeGpu({ LD_LIBRARY_PATH: `/nonexistent:${folder}` }).vulkanLoader).toBe(
        path.join(folder, 'libvulkan.so.1'),
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('says what WebGPU lacks: first a GPU, then the Vulkan loader; nothing when both are there', () => {
    expect(webgpuUnavailableReason({})).toMatch(new RegExp(`^${NO_GPU_FOUND} `));
    expect(webgpuUnavailableReason({ vulkanLoader: '/usr/lib/libvulkan.so.1' })).toMatch(
      new RegExp(`^${NO_GPU_FOUND} `),
    );
    expect(webgpuUnavailableReason({ deviceNode: '/dev/nvidia0' })).toMatch(/libvulkan\.so\.1 \(Debian: libvulkan1\)/);
    expect(
      webgpuUnavailableReason({ deviceNode: '/dev/nvidia0', vulkanLoader: '/usr/lib/libvulkan.so.1' }),
    ).toBeUndefined();
  });
});
