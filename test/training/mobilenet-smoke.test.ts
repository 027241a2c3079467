/**
 * CI runs the MobileNetV2 U-Net's training options on two tiles (training/smoke_test_mobilenet.sh): a run stopped
 * mid-epoch and resumed from its state ends with the same weights, optimiser and validation curve as one that ran
 * straight through, and its exported ONNX model runs in onnxruntime-node. Not the long training.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';

describe('mobilenet-unet training smoke test', () => {
  it('resumes a stopped run step for step and exports a model onnxruntime-node runs', async () => {
    const { stdout } = await promisify(execFile)(
      'bash',
      [path.join(REPO_ROOT, 'training', 'smoke_test_mobilenet.sh')],
      {
        cwd: REPO_ROOT,
        timeout: 280_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    expect(stdout).toMatch(/stopped at step 3 \(--max-steps-this-run 3\)/);
    expect(stdout).toMatch(/resume ok: stopped at step 3 and resumed = straight to step 4 \(max \|weight diff\| 0\.0/);
    expect(stdout).toMatch(/ema ok: taken up at step 3 and saved with the state/);
    expect(stdout).toMatch(/smoke ok: onnxruntime-node ran the mobilenet-unet glomseg-unet\.onnx, output 1x1x64x96/);
  }, 300_000);
});
