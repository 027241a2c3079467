/** CI runs the training pipeline end to end on two tiles (a few steps, ONNX export, load): not a full training. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

describe('training smoke test', () => {
  it('trains a few steps, exports ONNX with a model card, onnxruntime-node runs it, and combined models compute their parts', async () => {
    const { stdout } = await promisify(execFile)('bash', [path.join(REPO_ROOT, 'training', 'smoke_test.sh')], {
      cwd: REPO_ROOT,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toMatch(/smoke ok: onnxruntime-node ran glomseg-unet\.onnx, output 1x1x64x96/);
    // combine_onnx.py: a soup or an ensemble of a model with itself computes that model.
    expect(stdout).toMatch(/combine ok: soup of the first model with itself/);
    expect(stdout).toMatch(/combine ok: ensemble of the first model with itself/);
    // warm_start.py widens: a base-24 net started from a base-16 model computes the same logits.
    expect(stdout).toMatch(/widen ok: base 24 from a base-16 model/);
  }, 300_000);
});
