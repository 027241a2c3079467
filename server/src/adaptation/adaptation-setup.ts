/**
 * The adaptation service put together from the server's parts: the annotation store's reviewed regions, the
 * PyTorch trainer in a bounded child process, the product's scorer for held-out regions, and the model registry's
 * versions. One place, so app.ts only passes its parts in.
 */
import os from 'node:os';
import path from 'node:path';
import { checkListModels, checkSlideRequest } from '@glomseg/api/server/request-checks.js';
import type { AdaptAccess, ModelAdaptationService, ReviewedRegionSource } from '@glomseg/shared/adaptation.js';
import type { AnnotationBudget } from '@glomseg/shared/annotation-budget.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { GlomsegService, SlideProvider, TruthScorer } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import { REPO_ROOT } from '../repo-paths.mjs';
import { AdaptSlot, DEFAULT_ADAPT_LIMITS, type AdaptLimits } from '../service/adapt-model.js';
import { DomainModelAdaptation } from '../service/model-adaptation.js';
import { ServiceHeldOutScorer } from './held-out-scorer.js';
import { PythonTrainer } from './python-trainer.js';
import type { CropSlides } from './region-crops.js';
import { RegistryBaseFiles, RegistryModelVersions, type SessionCache } from './version-store.js';

/** Debian's interpreter, which has python3-torch (the `python3` first on PATH may be another). */
export const DEFAULT_TRAINING_PYTHON = '/usr/bin/python3';
export const ADAPT_SCRIPT = path.join(REPO_ROOT, 'training', 'adapt.py');
export const DEFAULT_ADAPT_MEMORY_BYTES = 6 * 1024 ** 3;

export interface AdaptationSettings {
  /** Default 'token': callers with a token only, so nobody on a server without tokens. */
  access?: AdaptAccess;
  python?: string;
  script?: string;
  /** Training threads; default: every core (the child runs at nice 10, so serving still comes first). */
  threads?: number;
  memoryBytes?: number;
  /** A replay manifest of the models' training regions (training/replay_regions.py); none: the lab's regions only. */
  replay?: string;
  limits?: Partial<AdaptLimits>;
}

export interface AdaptationParts {
  registry: ModelRegistry;
  sessions: SessionCache;
  slides: SlideProvider;
  service: Pick<GlomsegService, 'listModels' | 'getSlideInfo' | 'scoreSlide'>;
  /** Dice and object matching of held-out regions, off the serving thread, within the serving annotation budget. */
  scoring: TruthScorer;
  budget: AnnotationBudget;
  /** The annotation use case (ReviewedAnnotations); without one, adapting says so. */
  annotations?: ReviewedRegionSource;
  tokensRequired: boolean;
  settings?: AdaptationSettings;
  log?: (message: string) => void;
}

export function createModelAdaptation(parts: AdaptationParts): ModelAdaptationService {
  const settings = parts.settings ?? {};
  const trainer = new PythonTrainer({
    python: settings.python ?? DEFAULT_TRAINING_PYTHON,
    script: settings.script ?? ADAPT_SCRIPT,
    threads: settings.threads ?? os.availableParallelism(),
    memoryBytes: settings.memoryBytes ?? DEFAULT_ADAPT_MEMORY_BYTES,
    replay: settings.replay,
    registry: parts.registry,
    slides: cropSlides(parts),
    log: parts.log,
  });
  const saved = parts.annotations;
  const regions = saved
    ? {
        // A slide the server does not have is NOT_FOUND, not "no reviewed regions".
        async reviewedRegions(slideId: string, signal: AbortSignal) {
          await parts.slides.open(slideId, signal);
          return saved.reviewedRegions(slideId, signal);
        },
      }
    : {
        reviewedRegions: async () => {
          throw new GlomsegError('FAILED_PRECONDITION', 'this server keeps no annotations to adapt on');
        },
      };
  return new DomainModelAdaptation(
    {
      regions,
      trainer,
      scorer: new ServiceHeldOutScorer({
        service: parts.service,
        scoring: parts.scoring,
        budget: parts.budget,
        models: new RegistryBaseFiles(parts.registry, parts.sessions),
      }),
      versions: new RegistryModelVersions(parts.registry, parts.sessions),
      limits: { ...DEFAULT_ADAPT_LIMITS, ...settings.limits },
      slot: new AdaptSlot(),
    },
    { access: settings.access ?? 'token', tokensRequired: parts.tokensRequired },
  );
}

/** The slides as cropping needs them: the model's grid and the stain through the service, as inference sees them. */
function cropSlides({ slides, service }: AdaptationParts): CropSlides {
  return {
    open: (slideId, signal) => slides.open(slideId, signal),
    async gridOf(slideId: string, card: ModelCard, signal: AbortSignal, mppOverride?: number) {
      const models = await service.listModels(checkListModels({ slideId, mppOverride }), signal);
      const grid = models.find((m) => m.card.id === card.id)?.grid;
      if (!grid) throw new GlomsegError('NOT_FOUND', `model '${card.id}' has no grid on slide '${slideId}'`);
      return grid;
    },
    async stainOf(slideId: string, signal: AbortSignal) {
      return (await service.getSlideInfo(checkSlideRequest({ slideId }), signal)).stain.statistics;
    },
  };
}
