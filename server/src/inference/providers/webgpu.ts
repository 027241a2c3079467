/** ONNX Runtime's WebGPU provider (Dawn on Vulkan), with the card's WebGPU variant of the model when it has one. */
import { registerExecutionProvider } from '../provider-registry.js';
import { NO_GPU_FOUND, VULKAN_LOADER, type GpuPresence } from '../gpu-presence.js';

export const WEBGPU_NO_ADAPTER_MESSAGE =
  'WebGPU: no GPU adapter found (needs an NVIDIA/AMD GPU with the Vulkan loader libvulkan.so.1 and its ICD)';

/** Why WebGPU cannot start here, or undefined when it might. */
export function webgpuUnavailableReason(presence: GpuPresence): string | undefined {
  if (!presence.deviceNode) return `${NO_GPU_FOUND} (no /dev/dri render node or /dev/nvidia* device): WebGPU needs one`;
  if (!presence.vulkanLoader)
    return `WebGPU needs the Vulkan loader ${VULKAN_LOADER} (Debian: libvulkan1), which is not installed`;
  return undefined;
}

registerExecutionProvider({
  name: 'webgpu',
  label: 'WebGPU',
  priority: 200,
  usesGpu: true,
  modelVariant: 'webgpu',
  // Asked from files first: Dawn, asked for an adapter that cannot exist, prints C++ warnings over the user's terminal.
  unavailable: ({ gpu }) => webgpuUnavailableReason(gpu),
  refusal: (reason) => `${WEBGPU_NO_ADAPTER_MESSAGE}: ${reason}`,
  // NHWC lets the WebGPU EP use its faster channels-last convolution kernels.
  sessionOptions: () => [{ name: 'webgpu', preferredLayout: 'NHWC' }],
  explainFailure: (message) =>
    /No supported adapters|Failed to get a WebGPU adapter|RequestAdapter/i.test(message)
      ? WEBGPU_NO_ADAPTER_MESSAGE
      : undefined,
});
