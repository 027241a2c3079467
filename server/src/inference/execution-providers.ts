/** Which ONNX Runtime execution providers exist here, how to ask for them, and what their failures mean. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';

export type InferenceDevice = 'cpu' | 'webgpu' | 'cuda';
export type DeviceChoice = 'auto' | InferenceDevice;

export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

export const CUDA_NOT_INSTALLED_MESSAGE =
  'CUDA execution provider libraries are not installed (onnxruntime-node downloads them at install time on a ' +
  'networked machine with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 or ONNXRUNTIME_NODE_INSTALL=cuda12); use --device webgpu or cpu';

export const WEBGPU_NO_ADAPTER_MESSAGE =
  'WebGPU: no GPU adapter found (needs an NVIDIA/AMD GPU with the Vulkan loader libvulkan.so.1 and its ICD)';

export function executionProvidersFor(device: InferenceDevice): InferenceSession.ExecutionProviderConfig[] {
  switch (device) {
    case 'cpu':
      return ['cpu'];
    // NHWC lets the WebGPU EP use its faster channels-last convolution kernels.
    case 'webgpu':
      return [{ name: 'webgpu', preferredLayout: 'NHWC' }];
    case 'cuda':
      return [{ name: 'cuda', deviceId: 0 }];
  }
}

/** The folder holding onnxruntime-node's native libraries for this platform. */
export function onnxruntimeBinFolder(): string {
  const require = createRequire(import.meta.url);
  const packageRoot = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * The CUDA provider is not bundled in the npm package (listSupportedBackends() says `bundled: false`);
 * its install script fetches it separately, so look for the shared libraries themselves.
 */
export function cudaProviderInstalled(binFolder = onnxruntimeBinFolder()): boolean {
  const files =
    process.platform === 'win32'
      ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
      : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  return files.every((file) => existsSync(path.join(binFolder, file)));
}

/** True when a session failed because of the model file itself, so another device would fail the same way. */
export function isModelLoadFailure(message: string): boolean {
  return /Load model from|Protobuf parsing failed|No graph was found|ModelProto does not have|model_load_utils|Unsupported model IR version/i.test(message);
}

/** A person-readable reason a session could not start on a device. */
export function explainSessionFailure(device: InferenceDevice, message: string): string {
  const detail = firstLine(message);
  if (device === 'webgpu' && /No supported adapters|Failed to get a WebGPU adapter|RequestAdapter/i.test(message)) {
    return WEBGPU_NO_ADAPTER_MESSAGE;
  }
  if (device === 'cuda' && /Failed to load (shared )?library|libcudart|libcudnn|libcublas|CUDA driver version/i.test(message)) {
    return `CUDA: the execution provider could not start (needs an NVIDIA driver with CUDA 12 and cuDNN 9 libraries): ${detail}`;
  }
  return `${device === 'webgpu' ? 'WebGPU' : device === 'cuda' ? 'CUDA' : 'CPU'}: ${detail}`;
}

function firstLine(message: string): string {
  // ORT prefixes errors with the C++ source location; the useful part follows it.
  const line = message.trim().split('\n')[0] ?? '';
  return line.replace(/^\/\S+:\d+ [^\n]*? was false\. /, '').trim();
}
