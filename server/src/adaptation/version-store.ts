/**
 * The model-versions port at the edge: the registry's staging, publishing and default over models/versions, the
 * card of a new version written from the trainer's card plus what the server measured (held-out figures before and
 * after, data, steps, time), and the ONNX sessions of versions that move or go dropped.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { AdaptationFigures, ModelVersions, TrainedCandidate } from '@glomseg/shared/adaptation.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import { familyOf, nextVersion, VERSION_CARD } from '../inference/model-versions.js';
import type { BaseFileModels } from './held-out-scorer.js';

export interface SessionCache {
  forget(modelId: string): Promise<void>;
}

export class RegistryModelVersions implements ModelVersions {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly sessions: SessionCache,
  ) {}

  get(modelId: string): ModelCard {
    return this.registry.get(modelId).card;
  }

  defaultModel(): ModelCard {
    return this.registry.defaultModel().card;
  }

  nextVersion(parent: ModelCard): { id: string; family: string; version: number } {
    const family = familyOf(parent);
    return {
      ...nextVersion(
        this.registry.list().map((m) => m.card),
        family,
      ),
      family,
    };
  }

  async stage(candidate: TrainedCandidate, figures: AdaptationFigures): Promise<void> {
    await writeCard(candidate, figures);
    await this.registry.stage(candidate.folder);
  }

  async publish(candidate: TrainedCandidate, figures: AdaptationFigures): Promise<ModelCard> {
    await writeCard(candidate, figures);
    // Its session was opened on the staging path; the next use opens the published file.
    await this.sessions.forget(candidate.id);
    return (await this.registry.publish(candidate.id)).card;
  }

  async discard(candidate: TrainedCandidate): Promise<void> {
    await this.sessions.forget(candidate.id);
    await this.registry.discard(candidate.folder);
  }

  async setDefault(modelId: string): Promise<ModelCard> {
    return (await this.registry.setDefault(modelId)).card;
  }
}

/**
 * Models as their own file for held-out scoring: a model with variants is staged under another id without them,
 * its session dropped when scoring ends; one without (an adapted version) is scored as it is.
 */
export class RegistryBaseFiles implements BaseFileModels {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly sessions: SessionCache,
  ) {}

  baseFile(modelId: string): { id: string; release(): Promise<void> } {
    const { card } = this.registry.get(modelId);
    if (Object.keys(card.variants ?? {}).length === 0) return { id: modelId, release: async () => undefined };
    const id = `${modelId}~${card.file}`;
    this.registry.stageBaseFile(modelId, id);
    return {
      id,
      release: async () => {
        this.registry.unstageBaseFile(id);
        await this.sessions.forget(id);
      },
    };
  }
}

/**
 * card.json of the version: the trainer's card (the only other card in the folder, which is removed) with the
 * server's figures merged into provenance.adaptation, over the trainer's own record of its run.
 */
async function writeCard(candidate: TrainedCandidate, figures: AdaptationFigures): Promise<void> {
  const target = path.join(candidate.folder, VERSION_CARD);
  const source = await trainerCard(candidate.folder);
  const card = JSON.parse(await readFile(source ?? target, 'utf8')) as ModelCard & {
    provenance?: { adaptation?: Record<string, unknown> };
  };
  if (card.id !== candidate.id)
    throw new GlomsegError('INTERNAL', `the trained card names model '${card.id}', not '${candidate.id}'`);
  const trainer = { ...(card.provenance?.adaptation ?? {}) };
  // The trainer's own split is empty (the server holds regions out itself) and its parent is an object.
  delete trainer.heldOut;
  const parentCheckpoint = (trainer.parent as { checkpointSha256?: string } | undefined)?.checkpointSha256;
  const adaptation = { ...trainer, ...figures, ...(parentCheckpoint && { parentCheckpointSha256: parentCheckpoint }) };
  const written = { ...card, provenance: { ...card.provenance, adaptation } };
  await writeFileAtomic(target, `${JSON.stringify(written, null, 2)}\n`, { fsync: true });
  if (source) await rm(source);
}

async function trainerCard(folder: string): Promise<string | undefined> {
  const cards = (await readdir(folder)).filter((n) => n.endsWith('.json') && n !== VERSION_CARD && n !== 'adapt.json');
  if (cards.length > 1)
    throw new GlomsegError('INTERNAL', `${folder} holds more than one model card: ${cards.join(', ')}`);
  return cards[0] && path.join(folder, cards[0]);
}
