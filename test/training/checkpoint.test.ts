/**
 * The shipped model's PyTorch checkpoint (models/glomseg-unet.pt: the training checkpoint the ONNX file was exported
 * from, or for a U-Net exported without one, rebuilt from the ONNX file by training/checkpoint.py from-onnx; named in
 * the card by training/checkpoint.py name) computes what the product computes with the ONNX file: PyTorch on the checkpoint
 * against onnxruntime-node through the project's own segmenter, on the parity fixture's real tile crop.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../server/src/inference/model-registry.js';
import { OnnxSegmenter } from '../../server/src/inference/onnx-segmenter.js';
import { MODELS, REPO_ROOT } from '../helpers/paths.js';

const INPUT = path.join(REPO_ROOT, 'test', 'fixtures', 'parity', 'input.png');

describe('models/glomseg-unet.pt', () => {
  it('is the checkpoint the card names (file, sha256, architecture)', async () => {
    const card = JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8'));
    expect(card.checkpoint.file).toBe('glomseg-unet.pt');
    const bytes = await readFile(path.join(MODELS, card.checkpoint.file));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(card.checkpoint.sha256);
    // The architecture the card names is the one the file holds.
    const script = "import sys, torch; print(torch.load(sys.argv[1], map_location='cpu').get('arch', 'unet'))";
    const file = path.join(MODELS, card.checkpoint.file);
    const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, file], { cwd: REPO_ROOT });
    expect(stdout.trim()).toBe(card.checkpoint.arch);
  });

  it('gives the probabilities onnxruntime gives for the ONNX file, within 1e-4', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-checkpoint-'));
    const registry = await ModelRegistry.load({ folder: MODELS });
    const model = registry.get('glomseg-unet');
    const segmenter = await OnnxSegmenter.create({
      // The fp32 file: without its variants, the CPU would load the card's int8 copy.
      card: { ...model.card, variants: undefined },
      modelPath: model.modelPath,
      device: 'cpu',
      workers: 1,
    });
    try {
      const out = path.join(folder, 'probabilities.bin');
      await promisify(execFile)(
        '/usr/bin/python3',
        [
          path.join(REPO_ROOT, 'training', 'checkpoint.py'),
          'probabilities',
          path.join(MODELS, 'glomseg-unet.pt'),
          INPUT,
          out,
        ],
        { cwd: REPO_ROOT, timeout: 120_000 },
      );
      const torch = new Float32Array((await readFile(out)).buffer.slice(0));
      const { data, info } = await sharp(INPUT).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const onnx = await segmenter.predict({ width: info.width, height: info.height, data: new Uint8Array(data) });
      expect(torch.length).toBe(onnx.data.length);
      let maxDiff = 0;
      let above = 0;
      for (let i = 0; i < torch.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(torch[i] - onnx.data[i]));
        if (torch[i] > 0.5) above++;
      }
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
      // The crop holds a glomerulus: agreement on an empty prediction would prove nothing.
      expect(above / torch.length).toBeGreaterThan(0.01);
    } finally {
      await segmenter.dispose();
      await rm(folder, { recursive: true, force: true });
    }
  }, 180_000);
});
