/**
 * The execution providers this build knows (all of providers/, registered on import), the device choices derived
 * from them, which ones a choice tries on this machine, and what their failures mean.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { NO_GPU_FOUND, type GpuPresence } from './gpu-presence.js';
import { executionProviders, findExecutionProvider, type ExecutionProvider } from './provider-registry.js';
import './providers/index.js';

export { registerExecutionProvider, executionProviders, type ExecutionProvider } from './provider-registry.js';
export { CUDA_NOT_INSTALLED_MESSAGE, cudaProviderInstalled, onnxruntimeBinFolder } from './providers/cuda.js';
export { WEBGPU_NO_ADAPTER_MESSAGE, webgpuUnavailableReason } from './providers/webgpu.js';

/** A registered provider's name. */
export type InferenceDevice = string;
/** 'auto' (the highest-priority provider that works here) or a provider's name. */
export type DeviceChoice = 'auto' | InferenceDevice;

/** 'auto', then every registered provider, lowest priority first (cpu before the GPUs), as --device lists them. */
export function deviceChoices(): string[] {
  return [
    'auto',
    ...executionProviders()
      .map((provider) => provider.name)
      .reverse(),
  ];
}

/** --device's help: the choices come from the registry. */
export function deviceHelp(): string {
  return `execution provider (auto: the first that works of ${executionProviders()
    .map((p) => p.name)
    .join(', ')})`;
}

function providerNamed(name: string): ExecutionProvider {
  const provider = findExecutionProvider(name);
  if (!provider)
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `unknown device '${name}' (expected one of ${deviceChoices().join(', ')})`,
    );
  return provider;
}

/** The options of every ONNX Runtime session on `device`: the inference workers' and the bench's raw figures'. */
export function sessionOptionsFor(device: InferenceDevice, intraOpThreads: number): InferenceSession.SessionOptions {
  return sessionOptionsOf(providerNamed(device), intraOpThreads);
}

export function sessionOptionsOf(provider: ExecutionProvider, intraOpThreads: number): InferenceSession.SessionOptions {
  return {
    executionProviders: provider.sessionOptions(),
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    ...provider.memoryOptions,
  };
}

/**
 * The providers a device choice tries here, in order. An explicit provider that cannot run here fails up front
 * with its reason; `auto` logs what it skips, and on a machine without any GPU says so once.
 */
export function providersToTry(
  choice: DeviceChoice,
  gpu: GpuPresence,
  logger: (message: string) => void,
): ExecutionProvider[] {
  if (choice !== 'auto') {
    const provider = providerNamed(choice);
    const reason = provider.unavailable({ gpu });
    if (reason !== undefined) throw new GlomsegError('FAILED_PRECONDITION', provider.refusal?.(reason) ?? reason);
    return [provider];
  }
  let candidates = executionProviders();
  if (!gpu.deviceNode && candidates.some((provider) => provider.usesGpu)) {
    const cpuOnly = candidates.filter((provider) => !provider.usesGpu);
    logger(
      `inference: ${NO_GPU_FOUND} (no /dev/dri render node or /dev/nvidia* device): running on ${cpuOnly.map((p) => p.label).join(' or ')}`,
    );
    candidates = cpuOnly;
  }
  return candidates.filter((provider) => {
    const reason = provider.unavailable({ gpu });
    if (reason !== undefined) logger(`inference: skipping ${provider.label}: ${reason}`);
    return reason === undefined;
  });
}

/** True when a session failed because of the model file itself, so another device would fail the same way. */
export function isModelLoadFailure(message: string): boolean {
  return /Load model from|Protobuf parsing failed|No graph was found|ModelProto does not have|model_load_utils|Unsupported model IR version/i.test(
    message,
  );
}

/** A person-readable reason a session could not start on a device. */
export function explainSessionFailure(device: InferenceDevice, message: string): string {
  const detail = firstLine(message);
  const provider = findExecutionProvider(device);
  return provider?.explainFailure?.(message, detail) ?? `${provider?.label ?? device}: ${detail}`;
}

function firstLine(message: string): string {
  // ORT prefixes errors with the C++ source location; the useful part follows it.
  const line = message.trim().split('\n')[0] ?? '';
  return line.replace(/^\/\S+:\d+ [^\n]*? was false\. /, '').trim();
}
