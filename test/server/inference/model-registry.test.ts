import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { ModelRegistry } from '../../../server/src/inference/index.js';
import { buildTinyModel, tinyCard, type TinyModel } from './tiny-model.js';

let tiny: TinyModel;
let scratch: string;

beforeAll(async () => {
  tiny = await buildTinyModel();
  scratch = await mkdtemp(path.join(tmpdir(), 'glomseg-registry-'));
});

afterAll(async () => {
  await rm(tiny.folder, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

/** A models folder with the tiny ONNX file under the given names and these cards. */
async function modelsFolder(name: string, onnxNames: string[], cards: Record<string, unknown>): Promise<string> {
  const folder = path.join(scratch, name);
  await mkdir(folder, { recursive: true });
  for (const onnx of onnxNames) await copyFile(tiny.modelPath, path.join(folder, onnx));
  for (const [file, card] of Object.entries(cards)) {
    await writeFile(path.join(folder, file), typeof card === 'string' ? card : JSON.stringify(card));
  }
  return folder;
}

async function loadError(folder: string): Promise<GlomsegError> {
  const error = await ModelRegistry.load({ folder }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GlomsegError);
  return error as GlomsegError;
}

describe('ModelRegistry', () => {
  it('lists the cards, resolves files and variants, and picks glomseg-unet as default', async () => {
    const folder = await modelsFolder('good', ['a.onnx', 'unet.onnx', 'unet.fp16.onnx'], {
      'a.json': tinyCard('aaa-first', 'a.onnx'),
      'b.json': {
        ...tinyCard('glomseg-unet', 'unet.onnx'),
        variants: { webgpu: 'unet.fp16.onnx', coreml: 'missing.onnx' },
      },
      'notes.txt': 'not a card',
    });
    const messages: string[] = [];
    const registry = await ModelRegistry.load({ folder, logger: (m) => messages.push(m) });
    expect(registry.list().map((m) => m.card.id)).toEqual(['aaa-first', 'glomseg-unet']);
    const unet = registry.get('glomseg-unet');
    expect(unet.modelPath).toBe(path.join(folder, 'unet.onnx'));
    expect(unet.cardPath).toBe(path.join(folder, 'b.json'));
    expect(unet.variantPaths).toEqual({ webgpu: path.join(folder, 'unet.fp16.onnx') });
    expect(messages.join('\n')).toMatch(/variant 'coreml' names .*missing\.onnx, which does not exist/);
    expect(registry.defaultModel().card.id).toBe('glomseg-unet');
    expect(unet.card).toEqual(JSON.parse(await readFile(path.join(folder, 'b.json'), 'utf8')));
  });

  it('defaults to the first card without glomseg-unet, and names the available models for an unknown id', async () => {
    const folder = await modelsFolder('two', ['x.onnx'], {
      'z.json': tinyCard('zeta', 'x.onnx'),
      'y.json': tinyCard('ypsilon', 'x.onnx'),
    });
    const registry = await ModelRegistry.load({ folder });
    expect(registry.defaultModel().card.id).toBe('ypsilon');
    expect(() => registry.get('nope')).toThrow("no model 'nope'; available: ypsilon, zeta");
    try {
      registry.get('nope');
    } catch (error) {
      expect((error as GlomsegError).code).toBe('NOT_FOUND');
    }
  });

  it('an empty folder loads, but has no default model', async () => {
    const folder = await modelsFolder('empty', [], {});
    const registry = await ModelRegistry.load({ folder });
    expect(registry.list()).toEqual([]);
    expect(() => registry.defaultModel()).toThrow(/no model cards \(\*\.json\) in/);
    expect(() => registry.get('glomseg-unet')).toThrow("no model 'glomseg-unet'; available: none");
  });

  it('names the file and the bad fields of an invalid card', async () => {
    const bad = {
      ...tinyCard('bad', 'x.onnx'),
      input: { ...tinyCard('bad', 'x.onnx').input, mean: [0.5, 0.5] },
      threshold: 2,
    };
    const folder = await modelsFolder('invalid', ['x.onnx'], { 'bad.json': bad });
    const error = await loadError(folder);
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toContain(path.join(folder, 'bad.json'));
    expect(error.message).toContain("'input.mean' must be an array of 3 numbers (got [0.5,0.5])");
    expect(error.message).toContain("'threshold' must be a number in [0, 1] (got 2)");
  });

  it('rejects JSON that does not parse, a missing ONNX file, duplicate ids and a missing folder', async () => {
    const broken = await loadError(await modelsFolder('broken', [], { 'broken.json': '{"id": "x",' }));
    expect(broken.code).toBe('FAILED_PRECONDITION');
    expect(broken.message).toMatch(/broken\.json: not a readable JSON file/);

    const missing = await loadError(await modelsFolder('missing', [], { 'm.json': tinyCard('m', 'gone.onnx') }));
    expect(missing.message).toMatch(/m\.json: 'file' names .*gone\.onnx, which does not exist/);

    const dup = await loadError(
      await modelsFolder('dup', ['x.onnx'], {
        'a.json': tinyCard('same', 'x.onnx'),
        'b.json': tinyCard('same', 'x.onnx'),
      }),
    );
    expect(dup.message).toMatch(/model id 'same' is used by both .*a\.json and .*b\.json/);

    const none = await loadError(path.join(scratch, 'does-not-exist'));
    expect(none.code).toBe('FAILED_PRECONDITION');
    expect(none.message).toMatch(/cannot read the models folder/);
  });

  it('stops when the signal aborts', async () => {
    const folder = await modelsFolder('abort', ['x.onnx'], { 'a.json': tinyCard('a', 'x.onnx') });
    const error = await ModelRegistry.load({ folder, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((error as GlomsegError).code).toBe('CANCELLED');
  });
});
