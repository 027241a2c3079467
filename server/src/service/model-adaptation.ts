/**
 * AdaptModel and SetDefaultModel behind the server's access rule: both change what every caller gets, so on a
 * server without tokens they are refused unless the operator opened them (serve --adapt open), and `--adapt off`
 * switches them off whatever the tokens. Where tokens are configured, the edge has already refused a caller without one.
 */
import type {
  AdaptAccess,
  AdaptEvent,
  AdaptModelParams,
  ModelAdaptationService,
  SetDefaultModelParams,
} from '@glomseg/shared/adaptation.js';
import { GlomsegError, throwIfAborted } from '@glomseg/shared/errors.js';
import type { Checked } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { adaptModel, type AdaptParts } from './adapt-model.js';

export interface ModelAdaptationOptions {
  access: AdaptAccess;
  /** True when every call must carry a known token (checked at the edge). */
  tokensRequired: boolean;
}

export class DomainModelAdaptation implements ModelAdaptationService {
  constructor(
    private readonly parts: AdaptParts,
    private readonly options: ModelAdaptationOptions,
  ) {}

  async *adapt(params: Checked<AdaptModelParams>, signal: AbortSignal): AsyncGenerator<AdaptEvent> {
    this.allow('adapting a model');
    yield* adaptModel(this.parts, params, signal);
  }

  async setDefault(
    { modelId }: Checked<SetDefaultModelParams>,
    signal: AbortSignal,
  ): Promise<{ model: ModelCard; previousId: string }> {
    this.allow('changing the default model');
    throwIfAborted(signal);
    const previousId = this.parts.versions.defaultModel().id;
    return { model: await this.parts.versions.setDefault(modelId), previousId };
  }

  private allow(what: string): void {
    if (this.options.access === 'off')
      throw new GlomsegError(
        'FAILED_PRECONDITION',
        `${what} is switched off on this server (glomseg serve --adapt off); ask its operator`,
      );
    if (this.options.access === 'token' && !this.options.tokensRequired)
      throw new GlomsegError(
        'UNAUTHENTICATED',
        `${what} needs a token, and this server has none configured: start it with --auth-token-file, ` +
          'or open adapting to every caller with --adapt open',
      );
  }
}
