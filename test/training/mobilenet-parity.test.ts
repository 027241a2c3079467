/**
 * The PyTorch port of nsfwjs's Keras MobileNetV2 (training/mobilenet_encoder.py, weights by
 * training/mobilenet_v2_from_nsfwjs.py) computes what the Keras model computes: the same file run by
 * @tensorflow/tfjs (CPU backend), truncated at the layer the U-Net's encoder ends with, on one kidney crop.
 * The two sides share only the package in node_modules: tfjs decodes the quantised shard itself.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
const PORT = path.join(REPO_ROOT, 'training', 'mobilenet_v2_from_nsfwjs.py');
const EXTRACT = path.join(REPO_ROOT, 'training', 'nsfwjs_mobilenet_v2.mjs');
const IMAGE = path.join(REPO_ROOT, 'test', 'fixtures', 'parity', 'input.png');

interface PortResult {
  layer: string;
  shape: number[];
  features: number[];
  zeroVariances: number;
  imagenetThrough: string;
}

describe('MobileNetV2 port: PyTorch = the Keras model run by tfjs', () => {
  let folder: string;
  let port: PortResult;
  let keras: Float32Array;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-mobilenet-parity-'));
    const { stdout } = await run('/usr/bin/python3', [PORT, 'parity', IMAGE, folder], { maxBuffer: 16 << 20 });
    port = JSON.parse(stdout) as PortResult;
    await run('node', [EXTRACT, path.join(folder, 'keras')]);
    const model = JSON.parse(await readFile(path.join(folder, 'keras', 'model.json'), 'utf8'));
    const weights = await readFile(path.join(folder, 'keras', 'weights.bin'));
    await tf.setBackend('cpu');
    const full = await tf.loadLayersModel({
      load: async () => ({
        modelTopology: model.modelTopology,
        weightSpecs: model.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    });
    const truncated = tf.model({ inputs: full.inputs, outputs: full.getLayer(port.layer).output as tf.SymbolicTensor });
    const input = await readFile(path.join(folder, 'input.f32'));
    const x = tf.tensor4d(new Float32Array(input.buffer, input.byteOffset, input.byteLength / 4), [1, 224, 224, 3]);
    const y = truncated.predict(x) as tf.Tensor4D;
    expect(y.shape).toEqual([1, port.shape[2], port.shape[3], port.shape[1]]);
    keras = (await y.mean([1, 2]).data()) as Float32Array;
  }, 120_000);

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('ports the ImageNet part the package froze and keeps its zeroed BatchNorm variances', () => {
    expect(port.layer).toBe('block_13_expand_relu');
    expect(port.imagenetThrough).toBe('block_10_project_BN');
    expect(port.zeroVariances).toBeGreaterThan(0);
  });

  // float32 on both sides, 40 layers deep, channels amplified 32x by zeroed variances: differences come from
  // summation order only (measured: max |diff| 4.8e-7 of features up to 2.2, cosine 1 - 1e-8). Padding the stride-2
  // convolutions top/left instead of bottom/right, a one-pixel shift, already moves them by 0.31 (cosine 0.989).
  it('gives the same pooled features', () => {
    expect(keras.length).toBe(port.features.length);
    let dot = 0;
    let na = 0;
    let nb = 0;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < keras.length; i++) {
      const a = keras[i];
      const b = port.features[i];
      dot += a * b;
      na += a * a;
      nb += b * b;
      worst = Math.max(worst, Math.abs(a - b));
      scale = Math.max(scale, Math.abs(a));
    }
    const cosine = dot / Math.sqrt(na * nb);
    console.log(
      `pooled ${port.layer} (${keras.length} channels): max |diff| ${worst.toExponential(2)} ` +
        `(largest feature ${scale.toFixed(3)}), cosine ${cosine.toFixed(7)}`,
    );
    expect(cosine).toBeGreaterThan(0.99999);
    expect(worst).toBeLessThan(1e-3 * scale);
  });
});
