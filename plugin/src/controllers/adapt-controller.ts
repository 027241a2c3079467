/**
 * Adapting the model to the corrections saved for the slide (AdaptModel, with its progress: phase, step, loss, ETA),
 * and the model picker: the server's models (ListModels), a new version among them once registered.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AdaptModelParams, AdaptProgress, AdaptResult } from '@glomseg/shared/adaptation.js';
import { modelFromProto } from '@glomseg/api/client/from-proto.js';
import { adaptEventFromProto, adaptModelRequestToProto } from '@glomseg/api/client/adaptation-proto.js';
import { describeError, isAbort, type GlomsegClient } from '../glomseg-client.js';
import { glomsegEvent } from '../events.js';

export interface AdaptContext {
  slide(): string;
  /** The model shown now ('' : the server's default). */
  model(): string;
  pickModel(id: string): void;
  /** Whether the picker is shown (its models are asked for once it is). */
  shown(): boolean;
  client(): GlomsegClient;
  serverUrl(): string;
}

export interface ModelChoice {
  id: string;
  name: string;
  isDefault: boolean;
}

export class AdaptController implements ReactiveController {
  models: ModelChoice[] = [];
  progress?: AdaptProgress;
  result?: AdaptResult;
  error?: string;
  /** What Adapt asks for besides the model and slide (a portal's choice); unset fields: the server's defaults. */
  options: Omit<AdaptModelParams, 'modelId' | 'slideIds'> = {};
  private running?: AbortController;
  private listed = false;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly context: AdaptContext,
  ) {
    host.addController(this);
  }

  get busy(): boolean {
    return !!this.running;
  }

  hostUpdated(): void {
    if (this.listed || !this.context.shown()) return;
    this.listed = true;
    void this.refreshModels();
  }

  hostDisconnected(): void {
    this.cancel();
    this.listed = false;
  }

  /** Asks the server for its models (a version registered since is among them). */
  async refreshModels(): Promise<void> {
    try {
      const { models } = await this.context.client().listModels({});
      this.models = models.map(modelFromProto).map(({ card, isDefault }) => ({
        id: card.id,
        name: card.name,
        isDefault: !!isDefault,
      }));
    } catch (error) {
      this.error = `The models could not be listed: ${describeError(error, this.context.serverUrl()).message}`;
    }
    this.host.requestUpdate();
  }

  /** Fine-tunes the model shown on the slide's saved corrections; the new version is then shown. */
  async adapt(): Promise<AdaptResult | undefined> {
    if (this.running || !this.context.slide()) return undefined;
    const running = (this.running = new AbortController());
    Object.assign(this, { progress: undefined, result: undefined, error: undefined });
    this.host.requestUpdate();
    try {
      const request = adaptModelRequestToProto({
        ...this.options,
        modelId: this.context.model() || undefined,
        slideIds: [this.context.slide()],
      });
      for await (const message of this.context.client().adaptModel(request, { signal: running.signal })) {
        const event = adaptEventFromProto(message);
        if (event?.kind === 'progress') this.progress = event.progress;
        if (event?.kind === 'result') this.finished(event.result);
        this.host.requestUpdate();
      }
      return this.result;
    } catch (error) {
      if (!isAbort(error)) this.failed(error);
      return undefined;
    } finally {
      this.running = undefined;
      this.host.requestUpdate();
    }
  }

  cancel(): void {
    this.running?.abort();
  }

  private finished(result: AdaptResult): void {
    this.result = result;
    void this.refreshModels();
    this.context.pickModel(result.model.id);
  }

  private failed(error: unknown): void {
    const detail = describeError(error, this.context.serverUrl());
    this.error = `Not adapted: ${detail.message}`;
    this.host.dispatchEvent(glomsegEvent('glomseg-error', detail));
  }
}
