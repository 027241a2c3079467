/**
 * The int8 CPU variant: training/quantize_int8.py (with training/calibrate_int8.mjs) turns the real model into a QDQ
 * model ONNX Runtime runs, the card names it as `variants.cpu`, the CPU provider's session loads it, and its
 * probabilities on a real validation tile give the fp32 model's glomerulus pixels.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { sigmoid, toModelInput } from '@glomseg/shared/preprocess.js';
import '../../../server/src/inference/execution-providers.js';
import { findExecutionProvider } from '../../../server/src/inference/provider-registry.js';
import { ModelRegistry } from '../../../server/src/inference/model-registry.js';
import { sessionPlan } from '../../../server/src/inference/session-plan.js';
import { MODELS, REPO_ROOT } from '../../helpers/paths.js';
import { cropRgb, readTileScaled } from './tile-image.js';

const folders: string[] = [];
afterAll(() => Promise.all(folders.map((f) => rm(f, { recursive: true, force: true }))));

/** Probabilities of a model on a validation crop that holds glomeruli. */
async function probabilities(file: string, card: ModelCard, input: Float32Array, dims: number[]) {
  const session = await InferenceSession.create(file, { intraOpNumThreads: 1 });
  const out = await session.run({ [card.input.name]: new Tensor('float32', input, dims) });
  await session.release();
  return Float32Array.from(out[card.output.name].data as Float32Array, sigmoid);
}

function maskAgreement(a: Float32Array, b: Float32Array, threshold: number) {
  let both = 0;
  let sum = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const pa = a[i] >= threshold ? 1 : 0;
    const pb = b[i] >= threshold ? 1 : 0;
    both += pa & pb;
    sum += pa + pb;
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  }
  return { dice: (2 * both) / sum, foreground: sum / 2, maxDiff };
}

describe('int8 CPU variant', () => {
  it("is the card's variants.cpu, and the CPU provider's session loads it", async () => {
    const model = (await ModelRegistry.load({ folder: MODELS })).defaultModel();
    expect(model.card.variants?.cpu).toMatch(/\.int8\.onnx$/);
    const plan = sessionPlan({ card: model.card, modelPath: model.modelPath, variantPaths: model.variantPaths });
    expect(plan.candidate(findExecutionProvider('cpu')!).modelPath).toBe(model.variantPaths.cpu);
    // Other providers keep theirs: WebGPU its fp16 copy.
    expect(plan.candidate(findExecutionProvider('webgpu')!).modelPath).toBe(model.variantPaths.webgpu);
  });

  it("gives the fp32 model's glomerulus pixels on a validation tile (mask Dice >= 0.97 at the card's threshold)", async () => {
    const model = (await ModelRegistry.load({ folder: MODELS })).defaultModel();
    const image = cropRgb(await readTileScaled('148', model.card.downsample ?? 4), 0, 0, 384, 288);
    const dims = [1, 3, image.height, image.width];
    const input = toModelInput(image, model.card);
    const fp32 = await probabilities(model.modelPath, model.card, input, dims);
    const int8 = await probabilities(model.variantPaths.cpu, model.card, input, dims);
    const agreement = maskAgreement(fp32, int8, model.card.threshold);
    expect(agreement.foreground).toBeGreaterThan(500); // the crop holds glomeruli
    expect(agreement.dice).toBeGreaterThanOrEqual(0.97);
  });

  it('quantises a model from its card: calibrated on training tiles, QDQ nodes, int8 weights', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-int8-'));
    folders.push(folder);
    const card = path.join(MODELS, 'glomseg-unet.json');
    const source = path.join(MODELS, JSON.parse(await readFile(card, 'utf8')).file);
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8' });
    run('/usr/bin/python3', ['training/quantize_int8.py', 'probe', source, path.join(folder, 'probe.onnx')]);
    const ranges = path.join(folder, 'ranges.json');
    run('node', [
      '--import',
      'tsx',
      'training/calibrate_int8.mjs',
      card,
      path.join(folder, 'probe.onnx'),
      ranges,
      '--tiles',
      '3',
      '--percentile',
      '99.99',
    ]);
    const calibration = JSON.parse(await readFile(ranges, 'utf8'));
    const trainTiles = JSON.parse(await readFile(card, 'utf8')).provenance.trainTiles;
    expect(calibration.tiles.every((t: string) => trainTiles.includes(t))).toBe(true);
    expect(calibration.percentile).toBe(99.99);
    const int8 = path.join(folder, 'm.int8.onnx');
    // As the shipped variant was made (its card records the nodes kept float: the MobileNetV2 encoder's first blocks).
    const keptFloat: string[] = JSON.parse(await readFile(card, 'utf8')).metrics.int8.keptFloat;
    expect(keptFloat.length).toBeGreaterThan(0);
    const kept = keptFloat.join(',');
    run('/usr/bin/python3', ['training/quantize_int8.py', 'quantize', source, ranges, int8, '--float', kept]);
    const ops = run('/usr/bin/python3', [
      '-c',
      [
        'import onnx, sys, collections',
        'src, dst, kept = onnx.load(sys.argv[1]).graph, onnx.load(sys.argv[2]).graph, tuple(sys.argv[3].split(","))',
        'c = collections.Counter(n.op_type for n in dst.node)',
        'made = {o: n for n in src.node for o in n.output}',
        'convs = [n for n in src.node if n.op_type == "Conv"]',
        'float_relus = sum(n.op_type == "Relu" and made[n.input[0]].name.startswith(kept) for n in src.node)',
        'int8_weights = sum(i.data_type == 3 and len(i.dims) == 4 for i in dst.initializer)',
        'outs = {o.name for o in src.output}',
        'fed_float = lambda n: n.input[0] in made and made[n.input[0]].name.startswith(kept)',
        'quantisable = [n for n in convs if not n.name.startswith(kept) and not fed_float(n) and n.output[0] not in outs]',
        'print(c["QuantizeLinear"], c["Relu"], float_relus, int8_weights, len(quantisable))',
      ].join('\n'),
      source,
      int8,
      kept,
    ]);
    const [quantize, relus, floatRelus, int8Weights, quantisable] = ops.trim().split(' ').map(Number);
    expect(quantize).toBeGreaterThanOrEqual(quantisable); // the input of every quantised Conv at least
    expect(relus).toBe(floatRelus); // the others folded into their Conv outputs' quantisation
    // Every Conv outside the kept nodes whose input is quantised, but the logits head.
    expect(int8Weights).toBe(quantisable);
    const session = await InferenceSession.create(int8);
    expect(session.inputMetadata[0]).toMatchObject({ type: 'float32' });
    await session.release();
  }, 240_000);
});
