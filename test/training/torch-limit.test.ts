/**
 * training/torch_limit.py builds the shipped model in PyTorch from the checkpoint its card names (the PyTorch limit that
 * the GPU bench compares onnxruntime against); here it runs once on the CPU to show the weights it times are the shipped
 * ones: they reproduce the parity fixture, which the ONNX parity test holds to the ONNX file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';

const python = (args: string[]) =>
  promisify(execFile)('/usr/bin/python3', [path.join(REPO_ROOT, 'training', 'torch_limit.py'), ...args], {
    cwd: REPO_ROOT,
    timeout: 240_000,
  });

describe('training/torch_limit.py', () => {
  it("reproduces the parity fixture from the card's checkpoint, then reports a throughput per batch size", async () => {
    const { stdout } = await python(['--device', 'cpu', '--tile', '128', '--batch', '1', '2', '--iterations', '1']);
    const report = JSON.parse(stdout);
    expect(report.parityMaxAbsDiff).toBeLessThan(1e-4);
    expect(report.runs.map((r: any) => [r.dtype, r.batch, r.tile])).toEqual([
      ['float32', 1, 128],
      ['float32', 2, 128],
    ]);
    for (const run of report.runs) expect(run.mpxPerS).toBeGreaterThan(0);
  }, 240_000);

  it('saves the net with its parity check for a machine without onnx or PIL, and the saved copy passes it again', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-torch-limit-'));
    try {
      const file = path.join(folder, 'folded.pt');
      const saved = JSON.parse((await python(['--save', file])).stdout);
      expect(saved.parityMaxAbsDiff).toBeLessThan(1e-4);
      const report = JSON.parse(
        (await python(['--load', file, '--device', 'cpu', '--tile', '64', '--batch', '1', '--iterations', '1'])).stdout,
      );
      expect(report.model).toBe('models/glomseg-unet.pt');
      expect(report.parityMaxAbsDiff).toBe(saved.parityMaxAbsDiff);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 240_000);
});
