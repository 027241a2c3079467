import { describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { validateModelCard, type ModelCard } from '@glomseg/shared/model-card.js';

const good: ModelCard = {
  id: 'glomseg-unet',
  name: 'Glomerulus U-Net',
  description: '',
  file: 'glomseg-unet.onnx',
  variants: { webgpu: 'glomseg-unet.fp16.onnx' },
  input: {
    name: 'image',
    layout: 'NCHW',
    channelOrder: 'RGB',
    scale: 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  output: { name: 'logits', kind: 'logits', channel: 0 },
  mpp: 2,
  downsample: 4,
  tileSize: 256,
  margin: 32,
  sizeMultiple: 16,
  threshold: 0.5,
  minArea: 1000,
  provenance: { data: 'HuBMAP' },
  metrics: { dice: 0.9 },
};

function problemsOf(json: unknown, source?: string): string {
  try {
    validateModelCard(json, source);
  } catch (error) {
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('INVALID_ARGUMENT');
    return (error as GlomsegError).message;
  }
  throw new Error('expected the card to be rejected');
}

describe('validateModelCard', () => {
  it('accepts a complete card and returns it unchanged', () => {
    expect(validateModelCard(JSON.parse(JSON.stringify(good)))).toEqual(good);
    const { variants, mpp, minArea, provenance, metrics, ...minimal } = good;
    expect(validateModelCard(minimal)).toEqual(minimal);
  });

  it('takes licence and training-data terms, and names each malformed part of them', () => {
    const terms = {
      license: { spdx: 'MIT', copyright: 'Copyright (c) 2026 the glomseg authors' },
      trainingData: [
        {
          name: 'HuBMAP VU tiles',
          source: 'github.com/cns-iu/ccf-research-ftu',
          license: 'MIT',
          imageTerms: 'HuBMAP open-access data',
          use: 'training',
        },
      ],
    };
    expect(validateModelCard({ ...good, ...terms })).toEqual({ ...good, ...terms });
    const message = problemsOf({
      ...good,
      license: 'MIT',
      trainingData: [{ name: 'x', source: '', license: 'MIT' }, 3],
    });
    expect(message).toContain(`'license' must be an object {spdx, copyright} (got "MIT")`);
    expect(message).toContain(`'trainingData[0].source' must be a non-empty string (got "")`);
    expect(message).toContain(`'trainingData[0].use' must be a non-empty string (got nothing)`);
    expect(message).toContain(`'trainingData[1]' must be an object {name, source, license, use} (got 3)`);
    expect(problemsOf({ ...good, trainingData: [] })).toContain(`'trainingData' must be a non-empty array`);
  });

  it('lists every bad field, naming the source file', () => {
    const bad = {
      ...good,
      id: '',
      input: { ...good.input, layout: 'CHW', std: [0.2, 0, 0.2] },
      output: { name: 'logits', kind: 'prob', channel: -1 },
      sizeMultiple: 2.5,
      variants: { webgpu: 3 },
      seedThreshold: 1.5,
    };
    const message = problemsOf(bad, 'models/x.json');
    expect(message.startsWith('models/x.json: invalid model card: ')).toBe(true);
    expect(message).toContain(`'id' must be a non-empty string (got "")`);
    expect(message).toContain(`'input.layout' must be one of 'NCHW', 'NHWC' (got "CHW")`);
    expect(message).toContain(`'input.std' must be an array of 3 positive numbers (got [0.2,0,0.2])`);
    expect(message).toContain(`'output.kind' must be one of 'logits', 'probability' (got "prob")`);
    expect(message).toContain(`'output.channel' must be an integer >= 0 (got -1)`);
    expect(message).toContain(`'sizeMultiple' must be a positive integer (got 2.5)`);
    expect(message).toContain(`'variants' must be an object of file names`);
    expect(message).toContain(`'seedThreshold' must be a number in (0, 1] (got 1.5)`);
    expect(message.split('; ')).toHaveLength(8);
  });

  it('takes a checkpoint as its file, sha256 and architecture', () => {
    const checkpoint = { file: 'glomseg-unet.pt', sha256: 'a'.repeat(64), arch: 'unet' };
    expect(validateModelCard({ ...good, checkpoint }).checkpoint).toEqual(checkpoint);
    const expected = `'checkpoint' must be {"file", "sha256" (64 hex digits), "arch"}`;
    expect(problemsOf({ ...good, checkpoint: { ...checkpoint, sha256: 'abc' } })).toContain(expected);
    expect(problemsOf({ ...good, checkpoint: { ...checkpoint, arch: '' } })).toContain(expected);
    expect(problemsOf({ ...good, checkpoint: 'glomseg-unet.pt' })).toContain(expected);
  });

  it('takes requireCore only as true or false, and true only beside a seed threshold', () => {
    expect(validateModelCard({ ...good, seedThreshold: 0.95, requireCore: true }).requireCore).toBe(true);
    expect(problemsOf({ ...good, requireCore: 'yes' })).toContain(`'requireCore' must be true or false (got "yes")`);
    expect(problemsOf({ ...good, requireCore: true })).toContain(
      `'requireCore' must be false without a seedThreshold (got true)`,
    );
  });

  it("takes scoreTileSize, ScoreSlide's tile edge, only as a positive whole number of model pixels", () => {
    expect(validateModelCard({ ...good, scoreTileSize: 768 }).scoreTileSize).toBe(768);
    expect(validateModelCard(good).scoreTileSize).toBeUndefined();
    for (const bad of [0, 767.5, '768'])
      expect(problemsOf({ ...good, scoreTileSize: bad })).toContain(`'scoreTileSize' must be a positive integer`);
  });

  it('reports missing sections and non-objects', () => {
    const { input, output, tileSize, ...rest } = good;
    const message = problemsOf(rest);
    expect(message).toContain(`'input' must be an object (got nothing)`);
    expect(message).toContain(`'output' must be an object (got nothing)`);
    expect(message).toContain(`'tileSize' must be a positive integer (got nothing)`);
    expect(problemsOf([1, 2], 'list.json')).toBe('list.json: a model card must be a JSON object, got [1,2]');
    expect(problemsOf(null)).toBe('model card: a model card must be a JSON object, got null');
  });
});
