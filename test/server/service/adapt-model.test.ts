import { describe, expect, it } from 'vitest';
import type {
  AdaptEvent,
  AdaptationFigures,
  HeldOutFigures,
  ModelVersions,
  ReviewedRegion,
  TrainedCandidate,
  TrainerEvent,
  TrainingRequest,
} from '@glomseg/shared/adaptation.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { Checked } from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import {
  AdaptSlot,
  DEFAULT_ADAPT_LIMITS,
  adaptModel,
  type AdaptParts,
} from '../../../server/src/service/adapt-model.js';
import { rejection } from '../../helpers/rejection.js';

const square = (x: number, y: number, s: number) => ({
  exterior: [
    [x, y],
    [x + s, y],
    [x + s, y + s],
    [x, y + s],
  ] as Array<[number, number]>,
  holes: [],
});

function regionsOf(slideId: string, count: number): ReviewedRegion[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${slideId}/r${i}`,
    slideId,
    outline: square(i * 1000, 0, 800),
    glomeruli: [square(i * 1000 + 100, 100, 200)],
  }));
}

function figures(dice: number, f1: number, regions = 1): HeldOutFigures {
  return {
    regions,
    glomeruli: regions,
    predicted: regions,
    meanImageDice: dice,
    precision: f1,
    recall: f1,
    f1,
    truePositives: 0,
    falsePositives: 0,
    falseNegatives: 0,
  };
}

/** In-memory ports: the trainer yields its steps (waiting on `gate` when given), the scorer answers per model. */
function fakeParts(options: { after?: HeldOutFigures; gate?: Promise<void>; slides?: Record<string, number> } = {}) {
  const cards = new Map<string, ModelCard>([['base', { id: 'base' } as ModelCard]]);
  const log: string[] = [];
  const trained: TrainingRequest[] = [];
  const scored: Array<{ model: string; ids: string[]; mpp?: number }> = [];
  const staged = new Map<string, AdaptationFigures>();
  const versions: ModelVersions = {
    get: (id) => {
      const card = cards.get(id) ?? (staged.has(id) ? ({ id } as ModelCard) : undefined);
      if (!card) throw new GlomsegError('NOT_FOUND', `no model '${id}'`);
      return card;
    },
    defaultModel: () => cards.get('base')!,
    nextVersion: () => ({ id: 'base-v2', family: 'base', version: 2 }),
    stage: async (c, f) => void staged.set(c.id, f),
    publish: async (c: TrainedCandidate, f) => {
      log.push(`publish ${c.id} after ${f.heldOutAfter?.meanImageDice}`);
      const card = { id: c.id, provenance: { adaptation: f } } as unknown as ModelCard;
      cards.set(c.id, card);
      return card;
    },
    discard: async (c) => void log.push(`discard ${c.id}`),
    setDefault: async (id) => {
      log.push(`default ${id}`);
      return cards.get(id)!;
    },
  };
  const parts: AdaptParts = {
    regions: { reviewedRegions: async (slideId) => regionsOf(slideId, options.slides?.[slideId] ?? 5) },
    trainer: {
      check: async () => undefined,
      train: async function* (request, signal): AsyncIterable<TrainerEvent> {
        trained.push(request);
        for (let step = 1; step <= 3; step++) {
          if (options.gate) await options.gate;
          if (signal.aborted) throw new GlomsegError('CANCELLED', 'stopped');
          yield { kind: 'progress', phase: 'training', step, steps: 3, loss: 1 / step, etaSeconds: 3 - step };
        }
        yield { kind: 'done', candidate: { id: request.version.id, folder: '/staged', steps: 3, seconds: 9 } };
      },
    },
    scorer: {
      score: async (model, regions, _signal, mpp) => {
        scored.push({ model, ids: regions.map((r) => r.id), mpp });
        return model === 'base' ? figures(0.1, 0.2, regions.length) : (options.after ?? figures(0.8, 0.9));
      },
    },
    versions,
    limits: DEFAULT_ADAPT_LIMITS,
    slot: new AdaptSlot(),
  };
  return { parts, log, trained, scored, staged };
}

const params = (p: object) => ({ slideIds: ['s1', 's2'], ...p }) as Checked<Parameters<typeof adaptModel>[1]>;

async function run(parts: AdaptParts, p: object = {}, signal = new AbortController().signal): Promise<AdaptEvent[]> {
  const events: AdaptEvent[] = [];
  for await (const event of adaptModel(parts, params(p), signal)) events.push(event);
  return events;
}

describe('adaptModel', () => {
  it('holds regions out of training, scores them before and after, and registers the better version', async () => {
    const { parts, log, trained, scored, staged } = fakeParts();
    const events = await run(parts, { makeDefault: true, mppOverride: 0.5 });
    const phases = events.flatMap((e) => (e.kind === 'progress' ? [e.progress.phase] : []));
    expect([...new Set(phases)]).toEqual([
      'reading-regions',
      'scoring-before',
      'training',
      'scoring-after',
      'registering',
    ]);
    const steps = events.flatMap((e) => (e.kind === 'progress' && e.progress.phase === 'training' ? [e.progress] : []));
    expect(steps.map((s) => [s.step, s.steps, s.loss])).toEqual([
      [1, 3, 1],
      [2, 3, 0.5],
      [3, 3, 1 / 3],
    ]);
    // 10 regions, 2 held out: never trained on, scored by the parent and then by the candidate.
    const heldOut = scored[0]!.ids;
    expect(heldOut).toHaveLength(2);
    expect(scored.map((s) => [s.model, s.mpp])).toEqual([
      ['base', 0.5],
      ['base-v2', 0.5],
    ]);
    expect(trained[0]!.mppOverride).toBe(0.5);
    expect(scored[1]!.ids).toEqual(heldOut);
    expect(trained[0]!.regions.map((r) => r.id).filter((id) => heldOut.includes(id))).toEqual([]);
    expect(trained[0]!.regions).toHaveLength(8);
    expect(staged.get('base-v2')).toMatchObject({ parent: 'base', slides: ['s1', 's2'], heldOutIds: heldOut });
    expect(log).toEqual(['publish base-v2 after 0.8', 'default base-v2']);
    const result = events.at(-1);
    expect(result?.kind).toBe('result');
    if (result?.kind === 'result')
      expect(result.result).toMatchObject({
        parentId: 'base',
        before: { meanImageDice: 0.1 },
        after: { meanImageDice: 0.8 },
        trainedRegions: 8,
        heldOutRegions: 2,
        isDefault: true,
      });
  });

  it('refuses to register a version that did worse, with the figures, and throws it away', async () => {
    const { parts, log } = fakeParts({ after: figures(0.05, 0.5) });
    const error = await rejection(run(parts));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toMatch(
      /did worse .*before: mean image Dice 0\.100, F1 0\.200; after: mean image Dice 0\.050/,
    );
    expect(log).toEqual(['discard base-v2']);
    expect(parts.slot.busy).toBe(false);
  });

  it('runs one adaptation at a time: a second is RESOURCE_EXHAUSTED while the first runs', async () => {
    let open!: () => void;
    const { parts } = fakeParts({ gate: new Promise<void>((resolve) => (open = resolve)) });
    const first = run(parts);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const error = await rejection(run(parts));
    expect(error.code).toBe('RESOURCE_EXHAUSTED');
    expect(error.message).toMatch(/already running/);
    open();
    await first;
    expect((await run(parts)).at(-1)?.kind).toBe('result');
  });

  it('a cancelled adaptation keeps nothing and frees the slot', async () => {
    const controller = new AbortController();
    let open!: () => void;
    const { parts, log } = fakeParts({ gate: new Promise<void>((resolve) => (open = resolve)) });
    const running = run(parts, {}, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    open();
    expect((await rejection(running)).code).toBe('CANCELLED');
    expect(log.filter((l) => l.startsWith('publish'))).toEqual([]);
    expect(parts.slot.busy).toBe(false);
  });

  it('needs two reviewed regions, and bounds their number and size before any scoring or training', async () => {
    const few = fakeParts({ slides: { s1: 1, s2: 0 } });
    const error = await rejection(run(few.parts));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toMatch(/1 reviewed region; adapting needs at least 2/);
    const many = fakeParts({ slides: { s1: 600, s2: 600 } });
    expect((await rejection(run(many.parts))).message).toMatch(/1200 reviewed regions; .* at most 1000/);
    const long = fakeParts();
    const tooLong = await rejection(run(long.parts, { maxMinutes: 61 }));
    expect([tooLong.code, tooLong.message]).toEqual([
      'RESOURCE_EXHAUSTED',
      'max_minutes 61 is more than this server allows (60; serve --adapt-max-minutes)',
    ]);
    for (const f of [few, many, long]) expect([f.trained.length, f.scored.length]).toEqual([0, 0]);
  });

  it('where the trainer cannot run, says so before reading anything', async () => {
    const { parts, scored } = fakeParts();
    parts.trainer.check = async () => {
      throw new GlomsegError('FAILED_PRECONDITION', 'install python3-torch');
    };
    expect((await rejection(run(parts))).message).toBe('install python3-torch');
    expect(scored).toEqual([]);
  });
});
