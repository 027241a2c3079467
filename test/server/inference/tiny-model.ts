/**
 * A small real ONNX segmentation model for the inference tests, exported by PyTorch (Debian's python3-torch):
 * conv -> ReLU -> max-pool 2 -> conv -> ReLU -> nearest upsample 2 -> conv, so inputs must be a multiple of 2.
 * Input 'image' [1, 3, H, W] float32, output 'logits' [1, 1, H, W], H and W dynamic.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ModelCard } from '@glomseg/shared/model-card.js';

const EXPORT_SCRIPT = `
import sys, torch
from torch import nn
import torch.nn.functional as F

class Tiny(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.a = nn.Conv2d(3, width, 3, padding=1)
        self.b = nn.Conv2d(width, width, 3, padding=1)
        self.c = nn.Conv2d(width, 1, 3, padding=1)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.a(x)), 2)
        x = F.interpolate(F.relu(self.b(x)), scale_factor=2.0, mode='nearest')
        return self.c(x)

torch.manual_seed(7)
model = Tiny(int(sys.argv[2])).eval()
with torch.no_grad():
    model.c.bias.fill_(-0.5)
torch.onnx.export(model, torch.zeros(1, 3, 64, 64), sys.argv[1], input_names=['image'], output_names=['logits'],
                  opset_version=17, dynamic_axes={'image': {2: 'h', 3: 'w'}, 'logits': {2: 'h', 3: 'w'}})
`;

export interface TinyModel {
  folder: string;
  card: ModelCard;
  cardPath: string;
  modelPath: string;
}

export function tinyCard(id: string, file: string): ModelCard {
  return {
    id,
    name: `Tiny test model ${id}`,
    description: 'Three convolutions, random weights: exercises the plumbing, not the science.',
    file,
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
    tileSize: 256,
    margin: 32,
    sizeMultiple: 2,
    threshold: 0.5,
  };
}

/** Exports the model into a fresh temporary folder with its card; `width` is the number of hidden channels. */
export async function buildTinyModel(
  options: { id?: string; width?: number; folder?: string } = {},
): Promise<TinyModel> {
  const id = options.id ?? 'tiny';
  const folder = options.folder ?? (await mkdtemp(path.join(tmpdir(), 'glomseg-tiny-model-')));
  const modelPath = path.join(folder, `${id}.onnx`);
  const scriptPath = path.join(folder, 'export-tiny.py');
  await writeFile(scriptPath, EXPORT_SCRIPT);
  // Only /usr/bin/python3 has torch on this machine.
  await promisify(execFile)('/usr/bin/python3', [scriptPath, modelPath, String(options.width ?? 8)], {
    timeout: 120_000,
  });
  const card = tinyCard(id, `${id}.onnx`);
  const cardPath = path.join(folder, `${id}.json`);
  await writeFile(cardPath, JSON.stringify(card, null, 2));
  return { folder, card, cardPath, modelPath };
}
