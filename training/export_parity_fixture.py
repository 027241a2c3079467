"""PyTorch reference output for the ONNX parity test (test/fixtures/parity/).

Takes train tile 2.jpg, area-downsamples it like training does, crops a window and writes:
  input.png            the crop, RGB 8-bit (what the TypeScript pre-processing reads)
  probabilities.bin    sigmoid(logits) from PyTorch, float32 little-endian, row-major H x W
  fixture.json         shapes, crop origin, mean/std used, model file and tolerance
Usage: /usr/bin/python3 training/export_parity_fixture.py [--checkpoint models/glomseg-unet.pt]
(train.py also calls write_fixture at the end of a full run, so the fixture matches the shipped model.)
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import downsample_image  # noqa: E402
from checkpoint import build  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TILE_ID = '2'  # a split=train tile of slide A
# Non-square on purpose, so a width/height mix-up fails the test; a multiple of 16.
CROP_X, CROP_Y, CROP_W, CROP_H = 120, 108, 256, 192  # includes the tile's glomerulus (bottom edge)


def write_fixture(model, mean, std, data_dir, out_dir, downsample=4, onnx_path=None):
    model = model.to('cpu').to(memory_format=torch.contiguous_format).eval()
    img = Image.open(os.path.join(data_dir, 'tiles', f'{TILE_ID}.jpg')).convert('RGB')
    small = downsample_image(img, downsample)
    crop = small.crop((CROP_X, CROP_Y, CROP_X + CROP_W, CROP_Y + CROP_H))
    os.makedirs(out_dir, exist_ok=True)
    crop.save(os.path.join(out_dir, 'input.png'), optimize=True)
    # Read back the PNG so the reference is computed from exactly the bytes the test will read.
    rgb = np.asarray(Image.open(os.path.join(out_dir, 'input.png')).convert('RGB'), dtype=np.float32)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None] / np.float32(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    with torch.no_grad():
        prob = torch.sigmoid(model((x - m) / s))[0, 0].numpy().astype('<f4')
    prob.tofile(os.path.join(out_dir, 'probabilities.bin'))
    onnx_path = onnx_path or os.path.join(REPO, 'models', 'glomseg-unet.onnx')
    onnx_sha = hashlib.sha256(open(onnx_path, 'rb').read()).hexdigest() if os.path.exists(onnx_path) else None
    meta = {
        'description': 'PyTorch sigmoid(logits) of models/glomseg-unet.onnx weights on input.png; '
                       'for the TypeScript + onnxruntime-node parity test',
        'source': f'shared/data/hubmap-vu/tiles/{TILE_ID}.jpg (split=train), area-downsampled x{downsample} '
                  f'(PIL reduce), crop x={CROP_X} y={CROP_Y} at that scale',
        'input': {'file': 'input.png', 'width': CROP_W, 'height': CROP_H, 'channels': 3},
        'probabilities': {'file': 'probabilities.bin', 'dtype': 'float32', 'endianness': 'little',
                          'shape': [1, 1, CROP_H, CROP_W], 'order': 'row-major'},
        'normalisation': {'scale': 255, 'mean': [round(float(v), 4) for v in mean], 'std': [round(float(v), 4) for v in std]},
        'model': {'file': 'models/glomseg-unet.onnx', 'sha256': onnx_sha},
        'tolerance': {'maxAbsDiff': 1e-4},
        'stats': {'min': float(prob.min()), 'max': float(prob.max()), 'mean': float(prob.mean()),
                  'fractionAbove0.5': float((prob >= 0.5).mean())},
    }
    with open(os.path.join(out_dir, 'fixture.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    print(f'parity fixture: {out_dir} (prob range {prob.min():.4f}..{prob.max():.4f}, '
          f'{(prob >= 0.5).mean() * 100:.1f}% >= 0.5)', flush=True)
    return meta


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--checkpoint', default=os.path.join(REPO, 'models', 'glomseg-unet.pt'))
    p.add_argument('--data', default=os.path.join(REPO, '..', 'shared', 'data', 'hubmap-vu'))
    p.add_argument('--out', default=os.path.join(REPO, 'test', 'fixtures', 'parity'))
    p.add_argument('--onnx', default=os.path.join(REPO, 'models', 'glomseg-unet.onnx'))
    args = p.parse_args()
    torch.set_num_threads(2)
    ckpt = torch.load(args.checkpoint, map_location='cpu')
    model = build(ckpt)  # the network of the checkpoint's own architecture
    write_fixture(model, ckpt['mean'], ckpt['std'], args.data, args.out, ckpt['downsample'], args.onnx)


if __name__ == '__main__':
    main()
