/**
 * Held-out scoring at one precision, on the shipped model's card and files: the parent has an int8 copy for the CPU
 * (variants.cpu) that a served session opens, while an adapted version has only its fp32 file; the base-file port
 * makes the parent callable on its own fp32 file for scoring, and drops it and its session afterwards.
 */
import { mkdtemp, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryBaseFiles } from '../../../server/src/adaptation/version-store.js';
import { executionProviders } from '../../../server/src/inference/execution-providers.js';
import { ModelRegistry } from '../../../server/src/inference/model-registry.js';
import { sessionPlan } from '../../../server/src/inference/session-plan.js';
import { MODELS } from '../../../server/src/repo-paths.mjs';

const PARENT = 'glomseg-unet';
let folder: string;
let registry: ModelRegistry;

/** The file a CPU session of a registered model opens (what the server's sessions would run). */
function cpuFileOf(modelId: string): string {
  const model = registry.get(modelId);
  const cpu = executionProviders().find((p) => p.name === 'cpu')!;
  return path.basename(sessionPlan(model).candidate(cpu).modelPath);
}

beforeAll(async () => {
  // The shipped card and its ONNX files, linked into a folder of its own (the registry sweeps its folder).
  folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-base-files-'));
  const card = JSON.parse(await readFile(path.join(MODELS, `${PARENT}.json`), 'utf8')) as {
    file: string;
    variants: Record<string, string>;
  };
  await writeFile(path.join(folder, `${PARENT}.json`), JSON.stringify(card));
  for (const file of [card.file, ...Object.values(card.variants)])
    await symlink(path.join(MODELS, file), path.join(folder, file));
  registry = await ModelRegistry.load({ folder });
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('RegistryBaseFiles', () => {
  it('scores a parent that serves int8 on the CPU on its fp32 file, as its adapted versions run', async () => {
    expect(cpuFileOf(PARENT)).toBe('glomseg-unet.int8.onnx');
    const forgotten: string[] = [];
    const baseFiles = new RegistryBaseFiles(registry, { forget: async (id) => void forgotten.push(id) });
    const base = baseFiles.baseFile(PARENT);
    expect(base.id).not.toBe(PARENT);
    expect(cpuFileOf(base.id)).toBe('glomseg-unet.onnx');
    expect(registry.get(base.id).card.variants).toBeUndefined();
    // Not listed: ListModels and the default are unchanged while it is scored.
    expect(registry.list().map((m) => m.card.id)).toEqual([PARENT]);
    await base.release();
    expect(() => registry.get(base.id)).toThrow(/no model/);
    expect(forgotten).toEqual([base.id]);
    // The served parent keeps its int8 copy.
    expect(cpuFileOf(PARENT)).toBe('glomseg-unet.int8.onnx');
  });

  it('scores a model without variants (an adapted version) as it is', async () => {
    const card = JSON.parse(await readFile(path.join(folder, `${PARENT}.json`), 'utf8')) as Record<string, unknown>;
    const plain: Record<string, unknown> = { ...card, id: 'plain-v2' };
    delete plain.variants;
    await writeFile(path.join(folder, 'plain-v2.json'), JSON.stringify(plain));
    await registry.reload();
    const forgotten: string[] = [];
    const base = new RegistryBaseFiles(registry, { forget: async (id) => void forgotten.push(id) }).baseFile(
      'plain-v2',
    );
    expect(base.id).toBe('plain-v2');
    expect(cpuFileOf(base.id)).toBe('glomseg-unet.onnx');
    await base.release();
    expect(registry.get('plain-v2').card.id).toBe('plain-v2');
    expect(forgotten).toEqual([]);
  });
});
