/**
 * AdaptModel end to end, over real gRPC on loopback to `glomseg serve` processes: reviewed regions saved through
 * SaveAnnotations, fine-tuned by training/adapt.py (PyTorch, a bounded child process) from the shipped model's
 * checkpoint, judged on held-out regions by the product's scorer before and after, registered as a version that
 * ListModels shows without a restart and ScoreSlide can use, made the default and rolled back in one call each;
 * one adaptation at a time; a cancelled one keeps nothing. And a server SIGKILLed mid-adaptation leaves no model
 * and no training process behind.
 */
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import type { ServerProcess } from '../../../server/src/bench/server-process.js';
import { collect, glomsegClient, statusOf, type GlomsegTestClient } from '../../helpers/grpc.js';
import { glomseg } from '../../helpers/cli.js';
import { DATA } from '../../helpers/paths.js';
import { until } from '../../helpers/until.js';
import {
  AUTH,
  SLIDES,
  adaptScratch,
  processesNaming,
  replayManifest,
  saveReviewedViews,
  startServer,
  type AdaptScratch,
} from './adapt-fixture.js';

const RESOURCE_EXHAUSTED = 8;
const FAILED_PRECONDITION = 9;
const UNAUTHENTICATED = 16;

let scratch: AdaptScratch;
let server: ServerProcess;
let client: GlomsegTestClient;

beforeAll(async () => {
  scratch = await adaptScratch();
  const replay = await replayManifest(scratch);
  server = await startServer(scratch, ['--auth-token-file', scratch.tokens, '--adapt-replay', replay]);
  client = glomsegClient(server.address, { headers: AUTH });
  await saveReviewedViews(client);
}, 240_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  await rm(scratch.root, { recursive: true, force: true });
});

// Enough steps for the pretrained parent, already good on these views, to gain on the held-out one rather than
// wander: a version that did worse is refused (tested with fake ports in adapt-model.test.ts).
const STEPS = 20;
const adaptRequest = (fields: Partial<Omit<pb.AdaptModelRequest, '$typeName'>> = {}) => ({
  slideIds: SLIDES,
  maxSteps: STEPS,
  ...fields,
});

/** Starts an adaptation and resolves once it reports its first training step, with the rest of the stream. */
async function untilTraining(call: AsyncIterable<pb.AdaptModelEvent>): Promise<AsyncIterator<pb.AdaptModelEvent>> {
  const events = call[Symbol.asyncIterator]();
  for (;;) {
    const next = await events.next();
    if (next.done) throw new Error('the adaptation ended before training');
    const { event } = next.value;
    if (event.case === 'progress' && event.value.phase === 'training' && event.value.step >= 1) return events;
  }
}

describe('AdaptModel over gRPC', () => {
  it('adapts on the saved regions, registers the version for ListModels and ScoreSlide, and rolls back', async () => {
    const anonymous = glomsegClient(server.address);
    const refused = await statusOf(anonymous.adaptModel(adaptRequest()));
    anonymous.close();
    expect(refused.code).toBe(UNAUTHENTICATED);

    const events = await collect(client.adaptModel(adaptRequest()));
    const progress = events.flatMap((e) => (e.event.case === 'progress' ? [e.event.value] : []));
    const phases = [...new Set(progress.map((p) => p.phase))];
    expect(phases).toEqual([
      'reading-regions',
      'scoring-before',
      'cropping',
      'training',
      'scoring-after',
      'registering',
    ]);
    const steps = progress.filter((p) => p.phase === 'training');
    expect(steps.map((p) => [p.step, p.steps])).toEqual(Array.from({ length: STEPS }, (_, i) => [i + 1, STEPS]));
    expect(steps.every((p) => Number.isFinite(p.loss) && Number.isFinite(p.etaSeconds))).toBe(true);
    const last = events.at(-1)!.event;
    expect(last.case).toBe('result');
    if (last.case !== 'result') return;
    const result = last.value;
    expect([result.model?.id, result.parentId, result.steps]).toEqual(['glomseg-unet-v2', 'glomseg-unet', STEPS]);
    expect([result.trainedRegions, result.heldOutRegions]).toEqual([2, 1]);
    expect(result.after!.meanImageDice).toBeGreaterThanOrEqual(result.before!.meanImageDice);
    expect(result.after!.regions).toBe(1);

    // Listed by the running server, with its card: parent, data, steps, held-out figures before and after.
    const listed = (await client.listModels({})).models;
    expect(listed.map((m) => [m.id, m.isDefault])).toEqual([
      ['glomseg-unet', true],
      ['glomseg-unet-v2', false],
    ]);
    const card = JSON.parse(listed[1]!.detailsJson) as { provenance: { adaptation: Record<string, unknown> } };
    expect(card.provenance.adaptation).toMatchObject({
      parent: 'glomseg-unet',
      family: 'glomseg-unet',
      version: 2,
      slides: SLIDES,
      trainedRegions: 2,
      heldOutRegions: 1,
      steps: STEPS,
      heldOutBefore: { meanImageDice: result.before!.meanImageDice },
      heldOutAfter: { meanImageDice: result.after!.meanImageDice },
    });
    // A third of each batch replayed the parent's own training tiles (serve --adapt-replay), and the card says so.
    const recipe = (card.provenance.adaptation.trainer as { recipe: Record<string, unknown> }).recipe;
    expect(recipe.replay).toEqual({ source: path.join(DATA, 'hubmap-vu'), regions: 80, share: 1 / 3 });
    expect(recipe.batch).toBe(12); // the replay recipe's batch: 8 of the lab's crops and 4 replayed
    // The regions come from the annotation use case (ReviewedAnnotations): its ids, `<slide>#<region>`.
    const heldOutIds = card.provenance.adaptation.heldOutIds as string[];
    expect(heldOutIds).toHaveLength(1);
    expect(SLIDES.map((slide) => `${slide}#view`)).toContain(heldOutIds[0]);
    expect(await readdir(path.join(scratch.models, 'versions', 'glomseg-unet-v2'))).toEqual(
      expect.arrayContaining(['card.json', 'glomseg-unet.onnx', 'glomseg-unet.pt']),
    );

    const scored = await collect(client.scoreSlide({ slideId: SLIDES[0], modelId: 'glomseg-unet-v2' }));
    const scoredResult = scored.at(-1)!.event;
    expect(scoredResult.case === 'result' && scoredResult.value.modelId).toBe('glomseg-unet-v2');

    const chosen = await client.setDefaultModel({ modelId: 'glomseg-unet-v2' });
    expect([chosen.model?.id, chosen.previousId]).toEqual(['glomseg-unet-v2', 'glomseg-unet']);
    const byDefault = await collect(client.scoreSlide({ slideId: SLIDES[0] }));
    const defaultResult = byDefault.at(-1)!.event;
    expect(defaultResult.case === 'result' && defaultResult.value.modelId).toBe('glomseg-unet-v2');
    const rolledBack = await client.setDefaultModel({ modelId: 'glomseg-unet' });
    expect(rolledBack.previousId).toBe('glomseg-unet-v2');
    expect((await client.listModels({})).models.find((m) => m.isDefault)?.id).toBe('glomseg-unet');
  }, 600_000);

  it('runs one adaptation at a time, and a cancelled one stops its training and keeps nothing', async () => {
    const controller = new AbortController();
    const first = client.adaptModel(adaptRequest({ maxSteps: 500 }), { signal: controller.signal });
    const rest = await untilTraining(first);
    const second = await statusOf(client.adaptModel(adaptRequest()));
    expect(second.code).toBe(RESOURCE_EXHAUSTED);
    expect(second.details).toMatch(/already running/);
    expect(await processesNaming(scratch.models)).toHaveLength(1);
    controller.abort();
    await rest.next().catch(() => undefined);
    await until(async () => (await processesNaming(scratch.models)).length === 0, 30_000);
    expect((await client.listModels({})).models.map((m) => m.id)).toEqual(['glomseg-unet', 'glomseg-unet-v2']);
    // Its staging folder is discarded once the trainer has stopped (not before the process is gone).
    const staging = async () => (await readdir(path.join(scratch.models, 'versions'))).filter((n) => n.startsWith('.'));
    await until(async () => (await staging()).length === 0, 30_000).catch(() => undefined);
    expect(await staging()).toEqual([]);
  }, 600_000);
});

describe('a server SIGKILLed during an adaptation', () => {
  it('leaves no model, no half version and no training process; the next start sweeps the staging folder', async () => {
    const own = await adaptScratch();
    try {
      const victim = await startServer(own, ['--adapt', 'open']);
      const victimClient = glomsegClient(victim.address);
      await saveReviewedViews(victimClient);
      await untilTraining(victimClient.adaptModel(adaptRequest({ maxSteps: 500 })));
      expect(await processesNaming(own.models)).toHaveLength(1);
      victim.child.kill('SIGKILL');
      await victim.exited;
      victimClient.close();
      await until(async () => (await processesNaming(own.models)).length === 0, 20_000);
      const left = await readdir(path.join(own.models, 'versions'));
      expect(left.every((name) => name.startsWith('.staging-'))).toBe(true);

      const restarted = await startServer(own, ['--adapt', 'open']);
      const after = glomsegClient(restarted.address);
      try {
        expect((await after.listModels({})).models.map((m) => m.id)).toEqual(['glomseg-unet']);
        expect(await readdir(path.join(own.models, 'versions'))).toEqual([]);
      } finally {
        after.close();
        await restarted.close();
      }
    } finally {
      await rm(own.root, { recursive: true, force: true });
    }
  }, 600_000);
});

describe('who may adapt', () => {
  it('a replay manifest that is not there stops serve at the start, saying which', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-replay', 'manifest.json');
    const run = await glomseg(['serve', '--adapt-replay', missing, '--port', '0']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`'${missing}' is not a file`);
  }, 240_000);

  it('a server without tokens refuses anonymous adapting unless opened; --no-adapt and a Python without PyTorch say why', async () => {
    const own = await adaptScratch();
    const noTorch = path.join(own.root, 'python-without-torch');
    const { writeFile, chmod } = await import('node:fs/promises');
    await writeFile(noTorch, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    await chmod(noTorch, 0o755);
    try {
      for (const [args, code, words] of [
        [[], UNAUTHENTICATED, /needs a token.*--adapt open/],
        [['--no-adapt'], FAILED_PRECONDITION, /switched off on this server/],
        [['--adapt', 'open', '--adapt-python', noTorch], FAILED_PRECONDITION, /needs PyTorch.*python3-torch/],
      ] as const) {
        const open = await startServer(own, [...args]);
        const anyone = glomsegClient(open.address);
        try {
          const status = await statusOf(anyone.adaptModel(adaptRequest()));
          expect([status.code, status.details]).toEqual([code, expect.stringMatching(words)]);
        } finally {
          anyone.close();
          await open.close();
        }
      }
    } finally {
      await rm(own.root, { recursive: true, force: true });
    }
  }, 600_000);
});
