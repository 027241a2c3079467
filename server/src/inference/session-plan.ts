/** What session each execution provider would open (model file or its variant, intra-op threads) and how many workers. */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { sessionOptionsOf, type ExecutionProvider } from './execution-providers.js';
import type { SessionCandidate } from './inference-protocol.js';

export function sessionPlan(options: {
  card: ModelCard;
  modelPath: string;
  variantPaths?: Record<string, string>;
  workers?: number;
  intraOpThreads?: number;
}) {
  const { card, modelPath } = options;
  const cores = availableParallelism();
  // CPU: two single-session workers overlap one tile's pre/post-processing with another's run (measured
  // faster than one worker with twice the threads). GPU: one session feeds the device.
  const workersFor = (provider: ExecutionProvider): number =>
    Math.max(1, Math.floor(options.workers ?? (provider.usesGpu ? 1 : Math.min(2, cores))));
  const candidate = (provider: ExecutionProvider): SessionCandidate => {
    const variant = provider.modelVariant;
    const variantPath = variant
      ? (options.variantPaths?.[variant] ??
        (card.variants?.[variant] ? path.resolve(path.dirname(modelPath), card.variants[variant]) : undefined))
      : undefined;
    const intraOpThreads = Math.max(1, Math.floor(options.intraOpThreads ?? cores / workersFor(provider)));
    return {
      device: provider.name,
      modelPath: variantPath ?? modelPath,
      intraOpThreads,
      sessionOptions: sessionOptionsOf(provider, intraOpThreads),
    };
  };
  return { workersFor, candidate };
}
