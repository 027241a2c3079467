/**
 * Training and serving normalise stain with the same maths: training/stain.py (numpy, one image) and
 * training/stain_torch.py (torch, the batches train.py normalises its crops with) against shared/ (TypeScript),
 * on a real tile crop, for the statistics and for the mapped pixels.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import type { RgbImage } from '@glomseg/shared/slide-source.js';
import { applyReinhard, measureStainStatistics } from '@glomseg/shared/stain-normalization.js';
import { MODELS, REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, 'training', 'stain.py');
const IMAGE = path.join(REPO_ROOT, 'test', 'fixtures', 'parity', 'input.png');

async function readRgb(file: string): Promise<RgbImage> {
  const png = PNG.sync.read(await readFile(file));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let p = 0; p < png.width * png.height; p++) data.set(png.data.subarray(p * 4, p * 4 + 3), p * 3);
  return { width: png.width, height: png.height, data };
}

// Digits the statistics agree to: numpy computes in float64, torch returns float32 statistics.
describe.each([
  { variant: 'numpy', flags: [] as string[], digits: 8 },
  { variant: 'torch', flags: ['--torch'], digits: 4 },
])('stain maths: training ($variant) = shared/', ({ flags, digits }) => {
  it('measures the same Lab statistics over the same tissue', async () => {
    const python = JSON.parse((await run('/usr/bin/python3', [SCRIPT, 'stats', IMAGE, ...flags])).stdout);
    const ours = measureStainStatistics(await readRgb(IMAGE))!;
    expect(ours.tissuePixels).toBe(python.tissuePixels);
    for (let c = 0; c < 3; c++) {
      expect(ours.mean[c]).toBeCloseTo(python.mean[c], digits);
      expect(ours.std[c]).toBeCloseTo(python.std[c], digits);
    }
  });

  it("maps the same pixels to the card's reference, within a level of rounding", async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-stain-parity-'));
    try {
      const out = path.join(folder, 'normalised.png');
      await run('/usr/bin/python3', [SCRIPT, 'normalise', IMAGE, out, ...flags]);
      const card = JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8')) as ModelCard;
      const image = await readRgb(IMAGE);
      const ours = applyReinhard(image, {
        method: 'reinhard',
        from: measureStainStatistics(image)!,
        to: card.stain!.reference!,
      });
      const python = await readRgb(out);
      let differing = 0;
      let worst = 0;
      for (let i = 0; i < ours.data.length; i++) {
        const d = Math.abs(ours.data[i] - python.data[i]);
        worst = Math.max(worst, d);
        if (d > 0) differing++;
      }
      expect(worst).toBeLessThanOrEqual(1);
      expect(differing / ours.data.length).toBeLessThan(0.001);
      // Not the identity: the crop's statistics differ from the reference, so the mapping changed it.
      expect(ours.data.some((v, i) => Math.abs(v - image.data[i]) > 5)).toBe(true);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
