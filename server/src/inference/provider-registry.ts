/**
 * The execution-provider registry (onnxruntime's registerBackend): each provider registers itself from its own file
 * in providers/ with a name (the --device value), a priority, an availability probe and its session options.
 * `--device auto` tries the available ones, highest priority first. Kept apart from execution-providers.ts, which
 * imports every provider, so a provider file can import this one without a cycle.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { GpuPresence } from './gpu-presence.js';

/** What a provider's availability probe may look at: the machine's GPU, probed once per model. */
export interface ProviderProbeContext {
  gpu: GpuPresence;
}

export interface ExecutionProvider {
  /** The --device value, and the name in logs and SegmenterStats. */
  name: string;
  /** How messages name it: 'CUDA', 'WebGPU'. */
  label: string;
  /** `auto` tries the available providers highest first. */
  priority: number;
  /** Needs a GPU device: `auto` skips it, in one line for all, on a machine with none; one worker feeds the device. */
  usesGpu: boolean;
  /** The model card's variant to load on it (`card.variants[modelVariant]`), when the card has one. */
  modelVariant?: string;
  /** Why it cannot run here, or undefined when it may (asked before ONNX Runtime loads it). */
  unavailable(context: ProviderProbeContext): string | undefined;
  /** The error for an explicit --device when `unavailable` gave a reason (default: the reason). */
  refusal?(reason: string): string;
  /** ONNX Runtime's executionProviders for a session on it. */
  sessionOptions(): InferenceSession.ExecutionProviderConfig[];
  /** How its sessions hold memory between runs (ONNX Runtime's defaults where unset). */
  memoryOptions?: Pick<InferenceSession.SessionOptions, 'enableCpuMemArena' | 'enableMemPattern'>;
  /** A person-readable reason for a session failure it recognises (default: '<label>: <first line>'). */
  explainFailure?(message: string, firstLine: string): string | undefined;
}

const providers: ExecutionProvider[] = [];

export function registerExecutionProvider(provider: ExecutionProvider): void {
  if (provider.name === 'auto') throw new Error("'auto' is the device choice, not a provider name");
  if (providers.some((other) => other.name === provider.name))
    throw new Error(`an execution provider named '${provider.name}' is already registered`);
  providers.push(provider);
  providers.sort((a, b) => b.priority - a.priority);
}

/** Every registered provider, highest priority first. */
export function executionProviders(): readonly ExecutionProvider[] {
  return providers;
}

export function findExecutionProvider(name: string): ExecutionProvider | undefined {
  return providers.find((provider) => provider.name === name);
}
