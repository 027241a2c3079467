"""PyTorch throughput of the shipped model's own weights: the limit that onnxruntime's providers are measured against.

The weights are the PyTorch checkpoint the card names (models/glomseg-unet.pt, whichever architecture ships;
training/checkpoint.py builds its network), proved on the committed parity fixture (made from the same weights and
held to the ONNX file by test/training/onnx-parity.test.ts) before anything is timed.

Usage: /usr/bin/python3 training/torch_limit.py [--device cuda|cpu] [--tile 384] [--batch 1 8] [--iterations 50]
       /usr/bin/python3 training/torch_limit.py --save FILE     # the net and its parity check in one file, for a
       python3 training/torch_limit.py --load FILE ...           # machine with PyTorch but without onnx or PIL
Prints one JSON object: parity (max abs diff against test/fixtures/parity), and Mpx/s per dtype and batch size.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint import build, card_path, load  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parity_fixture():
    """The committed parity fixture as tensors: normalised input, expected probabilities, tolerance."""
    import numpy as np
    from PIL import Image
    folder = os.path.join(REPO, 'test', 'fixtures', 'parity')
    meta = json.load(open(os.path.join(folder, 'fixture.json')))
    rgb = np.asarray(Image.open(os.path.join(folder, meta['input']['file'])).convert('RGB'), dtype=np.float32)
    norm = meta['normalisation']
    x = (torch.from_numpy(rgb).permute(2, 0, 1)[None] / np.float32(norm['scale']) - torch.tensor(norm['mean']).view(1, 3, 1, 1)) / torch.tensor(norm['std']).view(1, 3, 1, 1)
    expected = np.fromfile(os.path.join(folder, meta['probabilities']['file']), dtype='<f4').reshape(rgb.shape[:2])
    return {'input': x, 'expected': torch.from_numpy(expected.copy()), 'tolerance': meta['tolerance']['maxAbsDiff']}


def parity(net, fixture):
    with torch.no_grad():
        got = torch.sigmoid(net.float().cpu()(fixture['input']))[0, 0]
    return float((got - fixture['expected']).abs().max()), fixture['tolerance']


def throughput(net, device, dtype, tile, batch, iterations):
    model = net.to(device=device, dtype=dtype).to(memory_format=torch.channels_last)
    x = torch.rand(batch, 3, tile, tile, device=device, dtype=dtype).to(memory_format=torch.channels_last)
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        sync()
        started = time.perf_counter()
        for _ in range(iterations):
            model(x)
        sync()
        seconds = time.perf_counter() - started
    return {'dtype': str(dtype).replace('torch.', ''), 'batch': batch, 'tile': tile, 'iterations': iterations,
            'seconds': round(seconds, 4), 'mpxPerS': round(batch * tile * tile * iterations / seconds / 1e6, 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', default=os.path.join(REPO, 'models'), help="model folder: its card's checkpoint")
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--tile', type=int, default=384, help='model pixels per side (the served 256 + 2 x 64 margin)')
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--iterations', type=int, default=50)
    parser.add_argument('--save', help='write the net and the parity fixture to this file, and stop')
    parser.add_argument('--load', help="a file written by --save, instead of the card's checkpoint")
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    if args.load:
        saved = torch.load(args.load, map_location='cpu')
        checkpoint, fixture, source = saved['checkpoint'], saved['parity'], saved['model']
    else:
        with open(card_path(args.models)) as f:
            named = json.load(f)['checkpoint']
        path = os.path.join(args.models, named['file'])
        checkpoint, fixture, source = load(path), parity_fixture(), os.path.relpath(path, REPO)
    net = build(checkpoint)
    diff, tolerance = parity(net, fixture)
    if diff > tolerance:
        raise SystemExit(f'the weights read from {source} do not reproduce the parity fixture: max abs diff {diff} > {tolerance}')
    if args.save:
        torch.save({'checkpoint': checkpoint, 'parity': fixture, 'model': source}, args.save)
        print(json.dumps({'saved': args.save, 'model': source, 'parityMaxAbsDiff': diff}))
        return
    dtypes = [torch.float32, torch.float16] if args.device == 'cuda' else [torch.float32]
    runs = [throughput(net, args.device, dtype, args.tile, batch, args.iterations) for dtype in dtypes for batch in args.batch]
    device_name = torch.cuda.get_device_name(0) if args.device == 'cuda' else 'cpu'
    print(json.dumps({'what': 'PyTorch forward passes of the shipped weights (channels-last, no grad)', 'model': source,
                      'device': args.device, 'deviceName': device_name, 'torch': torch.__version__, 'parityMaxAbsDiff': diff, 'runs': runs}, indent=2))


if __name__ == '__main__':
    main()
