/**
 * The fp16 variant the model card names for WebGPU gives the fp32 model's probabilities on a real tile (run here on
 * ONNX Runtime's CPU provider, which has no GPU to offer but runs the same graph).
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelRegistry } from '../../../server/src/inference/model-registry.js';
import { fromFloat16Bits, toFloat16Bits } from '../../../server/src/inference/float16.js';
import { sigmoid, toModelInput } from '@glomseg/shared/preprocess.js';
import { MODELS } from '../../helpers/paths.js';
import { cropRgb, readTileScaled } from './tile-image.js';

describe('fp16 WebGPU variant of the default model', () => {
  it("is listed by the card, takes and gives float16, and draws fp32's mask at the card's threshold", async () => {
    const model = (await ModelRegistry.load({ folder: MODELS })).defaultModel();
    const fp16Path = model.variantPaths.webgpu;
    expect(fp16Path).toMatch(/\.fp16\.onnx$/);
    const image = cropRgb(await readTileScaled('2', model.card.downsample ?? 4), 0, 0, 384, 288);
    const input = toModelInput(image, model.card);
    const dims = [1, 3, image.height, image.width];
    const fp32 = await InferenceSession.create(model.modelPath);
    const fp16 = await InferenceSession.create(fp16Path);
    expect(fp16.inputMetadata[0]).toMatchObject({ type: 'float16' });
    const out32 = (await fp32.run({ [model.card.input.name]: new Tensor('float32', input, dims) }))[
      model.card.output.name
    ].data as Float32Array;
    const out16 = fromFloat16Bits(
      (await fp16.run({ [model.card.input.name]: new Tensor('float16', toFloat16Bits(input), dims) }))[
        model.card.output.name
      ].data as Uint16Array,
    );
    let maxDiff = 0;
    let foreground = 0;
    let both = 0;
    let either = 0;
    const threshold = model.card.threshold;
    for (let i = 0; i < out32.length; i++) {
      const p32 = sigmoid(out32[i]);
      const p16 = sigmoid(out16[i]);
      maxDiff = Math.max(maxDiff, Math.abs(p32 - p16));
      if (p32 >= 0.5) foreground++;
      both += Number(p32 >= threshold && p16 >= threshold);
      either += Number(p32 >= threshold) + Number(p16 >= threshold);
    }
    // Half precision rounds in every one of the network's layers (50 convolutions in the MobileNetV2 U-Net: up to
    // about 0.01 in a probability, at the outline); what the product draws is the mask at the card's threshold.
    expect(maxDiff).toBeLessThan(0.02);
    expect((2 * both) / either).toBeGreaterThanOrEqual(0.995);
    expect(foreground).toBeGreaterThan(100); // the crop holds a glomerulus: agreement on nothing proves nothing
    await fp32.release();
    await fp16.release();
  });
});
