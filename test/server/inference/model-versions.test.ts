import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../../server/src/inference/index.js';
import { nextVersion } from '../../../server/src/inference/model-versions.js';
import { rejection } from '../../helpers/rejection.js';
import { buildTinyModel, tinyCard, type TinyModel } from './tiny-model.js';

let tiny: TinyModel;
let scratch: string;

beforeAll(async () => {
  tiny = await buildTinyModel();
  scratch = await mkdtemp(path.join(tmpdir(), 'glomseg-versions-'));
});

afterAll(async () => {
  await rm(tiny.folder, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

async function shippedFolder(name: string): Promise<string> {
  const folder = path.join(scratch, name);
  await mkdir(folder, { recursive: true });
  await copyFile(tiny.modelPath, path.join(folder, 'unet.onnx'));
  await writeFile(path.join(folder, 'unet.json'), JSON.stringify(tinyCard('glomseg-unet', 'unet.onnx')));
  return folder;
}

/** Writes a version into a staging folder as the adaptation does: ONNX file and card. */
async function writeVersion(registry: ModelRegistry, id: string, version: number): Promise<string> {
  const staging = await registry.createStaging();
  await copyFile(tiny.modelPath, path.join(staging, 'model.onnx'));
  const card = {
    ...tinyCard(id, 'model.onnx'),
    provenance: { adaptation: { parent: 'glomseg-unet', family: 'glomseg-unet', version } },
  };
  await writeFile(path.join(staging, 'card.json'), JSON.stringify(card));
  return staging;
}

describe('model versions', () => {
  it('a staged version is callable but not listed; published, it is listed by a registry without restart', async () => {
    const folder = await shippedFolder('publish');
    const registry = await ModelRegistry.load({ folder });
    const { id, version } = nextVersion(
      registry.list().map((m) => m.card),
      'glomseg-unet',
    );
    expect(id).toBe('glomseg-unet-v2');
    const staging = await writeVersion(registry, id, version);
    await registry.stage(staging);
    expect(registry.get(id).modelPath).toBe(path.join(staging, 'model.onnx'));
    expect(registry.list().map((m) => m.card.id)).toEqual(['glomseg-unet']);
    // Another registry over the same folder (another server process) does not see a staged version either.
    expect((await ModelRegistry.load({ folder })).list().map((m) => m.card.id)).toEqual(['glomseg-unet']);

    const published = await registry.publish(id);
    expect(published.modelPath).toBe(path.join(folder, 'versions', id, 'model.onnx'));
    expect(registry.list().map((m) => m.card.id)).toEqual(['glomseg-unet', id]);
    expect(
      nextVersion(
        registry.list().map((m) => m.card),
        'glomseg-unet',
      ).id,
    ).toBe('glomseg-unet-v3');
    // The default does not move by itself: an operator chooses it.
    expect(registry.defaultModel().card.id).toBe('glomseg-unet');
  });

  it('the default is chosen and rolled back in one call each, and kept across restarts', async () => {
    const folder = await shippedFolder('default');
    const registry = await ModelRegistry.load({ folder });
    await registry.stage(await writeVersion(registry, 'glomseg-unet-v2', 2));
    await registry.publish('glomseg-unet-v2');
    await registry.setDefault('glomseg-unet-v2');
    expect(registry.defaultModel().card.id).toBe('glomseg-unet-v2');
    expect((await ModelRegistry.load({ folder })).defaultModel().card.id).toBe('glomseg-unet-v2');
    await registry.setDefault('glomseg-unet');
    expect((await ModelRegistry.load({ folder })).defaultModel().card.id).toBe('glomseg-unet');
    const error = await rejection(registry.setDefault('nope'));
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a discarded or unfinished version never appears; a later start sweeps its folder', async () => {
    const folder = await shippedFolder('discard');
    const registry = await ModelRegistry.load({ folder });
    const discarded = await writeVersion(registry, 'glomseg-unet-v2', 2);
    await registry.stage(discarded);
    await registry.discard(discarded);
    expect(() => registry.get('glomseg-unet-v2')).toThrow(/no model 'glomseg-unet-v2'/);
    // A half-written staging folder of a process killed while writing it (named after that process).
    const dead = spawnSync('true').pid;
    const half = path.join(folder, 'versions', `.staging-${dead}-killed`);
    await mkdir(half);
    await writeFile(path.join(half, 'model.onnx'), 'trunc');
    const messages: string[] = [];
    const restarted = await ModelRegistry.load({ folder, logger: (m) => messages.push(m) });
    expect(restarted.list().map((m) => m.card.id)).toEqual(['glomseg-unet']);
    expect(await readdir(path.join(folder, 'versions'))).toEqual([]);
    expect(messages.join('\n')).toMatch(/removed 1 unfinished model version/);
  });

  it('publishing refuses to replace a kept version', async () => {
    const folder = await shippedFolder('clash');
    const registry = await ModelRegistry.load({ folder });
    await registry.stage(await writeVersion(registry, 'glomseg-unet-v2', 2));
    await registry.publish('glomseg-unet-v2');
    const again = await writeVersion(registry, 'glomseg-unet-v2', 2);
    const error = await rejection(registry.stage(again));
    expect(error).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect((error as Error).message).toMatch(/already exists/);
  });
});
