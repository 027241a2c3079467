import { describe, expect, it } from 'vitest';
import type { AdaptModelParams, ModelVersions, SetDefaultModelParams } from '@glomseg/shared/adaptation.js';
import type { Checked } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { AdaptSlot, DEFAULT_ADAPT_LIMITS } from '../../../server/src/service/adapt-model.js';
import { DomainModelAdaptation, type ModelAdaptationOptions } from '../../../server/src/service/model-adaptation.js';
import { rejection } from '../../helpers/rejection.js';

/** Ports that record whether the use case got as far as them. */
function adaptation(options: ModelAdaptationOptions) {
  const touched: string[] = [];
  let current = 'base';
  const versions = {
    get: (id: string) => ({ id }) as ModelCard,
    defaultModel: () => ({ id: current }) as ModelCard,
    setDefault: async (id: string) => {
      touched.push(`default ${id}`);
      current = id;
      return { id } as ModelCard;
    },
  } as unknown as ModelVersions;
  const service = new DomainModelAdaptation(
    {
      regions: {
        reviewedRegions: async () => {
          touched.push('regions');
          return [];
        },
      },
      trainer: { check: async () => void touched.push('check'), train: async function* () {} },
      scorer: { score: async () => ({}) as never },
      versions,
      limits: DEFAULT_ADAPT_LIMITS,
      slot: new AdaptSlot(),
    },
    options,
  );
  return { service, touched };
}

const adaptParams = { slideIds: ['s'] } as unknown as Checked<AdaptModelParams>;
const defaultParams = { modelId: 'base-v2' } as Checked<SetDefaultModelParams>;

async function drain(events: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of events);
}

describe('DomainModelAdaptation access', () => {
  it('--adapt off refuses adapting and changing the default, tokens or not', async () => {
    for (const tokensRequired of [false, true]) {
      const { service, touched } = adaptation({ access: 'off', tokensRequired });
      const error = await rejection(drain(service.adapt(adaptParams, new AbortController().signal)));
      expect(error.code).toBe('FAILED_PRECONDITION');
      expect(error.message).toMatch(/switched off on this server \(glomseg serve --adapt off\)/);
      expect((await rejection(service.setDefault(defaultParams, new AbortController().signal))).code).toBe(
        'FAILED_PRECONDITION',
      );
      expect(touched).toEqual([]);
    }
  });

  it('by default a server without tokens refuses anonymous adapting (UNAUTHENTICATED), one with tokens allows it', async () => {
    const anonymous = adaptation({ access: 'token', tokensRequired: false });
    const error = await rejection(drain(anonymous.service.adapt(adaptParams, new AbortController().signal)));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/needs a token.*--auth-token-file.*--adapt open/);
    expect((await rejection(anonymous.service.setDefault(defaultParams, new AbortController().signal))).code).toBe(
      'UNAUTHENTICATED',
    );
    expect(anonymous.touched).toEqual([]);

    const withTokens = adaptation({ access: 'token', tokensRequired: true });
    // It gets past the rule: on to the trainer check and the regions (which are too few here).
    expect((await rejection(drain(withTokens.service.adapt(adaptParams, new AbortController().signal)))).code).toBe(
      'FAILED_PRECONDITION',
    );
    expect(withTokens.touched).toEqual(['check', 'regions']);
  });

  it('--adapt open lets anyone adapt and roll back; the rollback says what it replaced', async () => {
    const { service, touched } = adaptation({ access: 'open', tokensRequired: false });
    const { model, previousId } = await service.setDefault(defaultParams, new AbortController().signal);
    expect([model.id, previousId]).toEqual(['base-v2', 'base']);
    expect(touched).toEqual(['default base-v2']);
  });
});
