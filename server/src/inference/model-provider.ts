/** Models for the service: cards from the registry, one ONNX segmenter per model, created on first use. */
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { Segmenter } from '@glomseg/shared/segmenter.js';
import type { ModelProvider } from '@glomseg/shared/glomseg-service.js';
import type { ModelRegistry } from './model-registry.js';
import { OnnxSegmenter, type DeviceChoice } from './onnx-segmenter.js';

export interface OnnxModelProviderOptions {
  registry: ModelRegistry;
  device: DeviceChoice;
  workers?: number;
  intraOpThreads?: number;
  log?: (message: string) => void;
}

export class OnnxModelProvider implements ModelProvider {
  private readonly segmenters = new Map<string, Promise<Segmenter>>();
  private readonly devices = new Map<string, string>();

  constructor(private readonly options: OnnxModelProviderOptions) {}

  list(): ModelCard[] {
    return this.options.registry.list().map((m) => m.card);
  }

  get(modelId: string): ModelCard {
    return this.options.registry.get(modelId).card;
  }

  defaultModel(): ModelCard {
    return this.options.registry.defaultModel().card;
  }

  deviceOf(modelId: string): string {
    return this.devices.get(modelId) ?? `${this.options.device} (not loaded yet)`;
  }

  segmenter(modelId: string): Promise<Segmenter> {
    let pending = this.segmenters.get(modelId);
    if (!pending) {
      const model = this.options.registry.get(modelId);
      pending = OnnxSegmenter.create({
        card: model.card,
        modelPath: model.modelPath,
        variantPaths: model.variantPaths,
        device: this.options.device,
        workers: this.options.workers,
        intraOpThreads: this.options.intraOpThreads,
        logger: this.options.log,
      }).then((segmenter) => {
        this.devices.set(modelId, segmenter.device);
        return segmenter;
      });
      // A failed start (bad file, missing GPU) is not cached: the next request tries again and gets the clear error.
      pending.catch(() => this.segmenters.delete(modelId));
      this.segmenters.set(modelId, pending);
    }
    return pending;
  }

  /** Loads a model now rather than on the first request (the server warms its default model at start). */
  async warm(modelId: string): Promise<Segmenter> {
    return this.segmenter(modelId);
  }

  /** Drops a model's loaded session (a judged version thrown away, or moved on publishing): the next use reloads it. */
  async forget(modelId: string): Promise<void> {
    const pending = this.segmenters.get(modelId);
    this.segmenters.delete(modelId);
    this.devices.delete(modelId);
    await pending?.then(
      (s) => s.dispose(),
      () => undefined,
    );
  }

  async dispose(): Promise<void> {
    const all = [...this.segmenters.values()];
    this.segmenters.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (s) => s.dispose(),
          () => undefined,
        ),
      ),
    );
  }
}
