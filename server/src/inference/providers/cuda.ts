/** ONNX Runtime's CUDA provider: not bundled in the npm package, so it is there only where its libraries are. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerExecutionProvider } from '../provider-registry.js';

export const CUDA_NOT_INSTALLED_MESSAGE =
  'CUDA execution provider libraries are not installed (onnxruntime-node downloads them at install time on a ' +
  'networked machine with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 or ONNXRUNTIME_NODE_INSTALL=cuda12); use --device webgpu or cpu';

/** The folder holding onnxruntime-node's native libraries for this platform. */
export function onnxruntimeBinFolder(): string {
  const require = createRequire(import.meta.url);
  const packageRoot = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * listSupportedBackends() says `bundled: false` for CUDA; its install script fetches it separately, so look for
 * the shared libraries themselves.
 */
export function cudaProviderInstalled(binFolder = onnxruntimeBinFolder()): boolean {
  const files =
    process.platform === 'win32'
      ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
      : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  return files.every((file) => existsSync(path.join(binFolder, file)));
}

registerExecutionProvider({
  name: 'cuda',
  label: 'CUDA',
  priority: 300,
  usesGpu: true,
  unavailable: () => (cudaProviderInstalled() ? undefined : CUDA_NOT_INSTALLED_MESSAGE),
  sessionOptions: () => [{ name: 'cuda', deviceId: 0 }],
  explainFailure: (message, firstLine) =>
    /Failed to load (shared )?library|libcudart|libcudnn|libcublas|CUDA driver version/i.test(message)
      ? `CUDA: the execution provider could not start (needs an NVIDIA driver with CUDA 12 and cuDNN 9 libraries): ${firstLine}`
      : undefined,
});
