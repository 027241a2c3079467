"""PyTorch throughput of the shipped model's own weights: the limit that onnxruntime's providers are measured against.

The weights come from models/glomseg-unet.onnx itself (no checkpoint needed): the exported graph is the U-Net of
model.py with each BatchNorm folded into the convolution before it, so the script builds that net with biased
convolutions and no BatchNorm, copies the ONNX initialisers in graph order, and proves the copy on the committed
parity fixture before it times anything.

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
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import UNet  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def folded_unet(onnx_path=None, base=None, state_dict=None):
    """model.py's U-Net with BatchNorm folded away, holding the ONNX file's weights (or a saved copy of them)."""
    if state_dict is not None:
        net = UNet(base=base)
        swap_folded(net, {})
        net.load_state_dict(state_dict)
        return net.eval()
    import onnx
    from onnx import numpy_helper
    graph = onnx.load(onnx_path).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    convs = [node for node in graph.node if node.op_type == 'Conv']
    base = weights[convs[0].input[1]].shape[0]
    net = UNet(base=base)
    # Forward order of the convolutions, recorded once, is the order the exporter wrote them in.
    order = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m)) for m in net.modules() if isinstance(m, nn.Conv2d)]
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    if len(order) != len(convs):
        raise SystemExit(f'{onnx_path}: {len(convs)} Conv nodes, but model.py has {len(order)} convolutions')
    replaced = {}
    for module, node in zip(order, convs):
        w = torch.from_numpy(weights[node.input[1]].copy())
        if tuple(w.shape) != tuple(module.weight.shape):
            raise SystemExit(f'{onnx_path}: Conv {node.name} has weights {tuple(w.shape)}, model.py expects {tuple(module.weight.shape)}')
        conv = nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, padding=module.padding, bias=True)
        conv.weight.data.copy_(w)
        conv.bias.data.copy_(torch.from_numpy(weights[node.input[2]].copy()) if len(node.input) > 2 else torch.zeros(module.out_channels))
        replaced[id(module)] = conv
    swap_folded(net, replaced)
    return net.eval()


def swap_folded(parent, replaced):
    """BatchNorm out; each 3x3 convolution with a bias (the folded one when given, else a fresh one to load into)."""
    for name, child in parent.named_children():
        if id(child) in replaced:
            setattr(parent, name, replaced[id(child)])
        elif isinstance(child, nn.Conv2d) and child.bias is None:
            setattr(parent, name, nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size, padding=child.padding, bias=True))
        elif isinstance(child, nn.BatchNorm2d):
            setattr(parent, name, nn.Identity())
        else:
            swap_folded(child, replaced)


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
    parser.add_argument('--model', default=os.path.join(REPO, 'models', 'glomseg-unet.onnx'))
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--tile', type=int, default=384, help='model pixels per side (the served 256 + 2 x 64 margin)')
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--iterations', type=int, default=50)
    parser.add_argument('--save', help='write the net and the parity fixture to this file, and stop')
    parser.add_argument('--load', help='a file written by --save, instead of the ONNX model')
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    if args.load:
        saved = torch.load(args.load)
        net, fixture, source = folded_unet(base=saved['base'], state_dict=saved['stateDict']), saved['parity'], saved['model']
    else:
        net, fixture, source = folded_unet(args.model), parity_fixture(), os.path.relpath(args.model, REPO)
    diff, tolerance = parity(net, fixture)
    if diff > tolerance:
        raise SystemExit(f'the weights read from {source} do not reproduce the parity fixture: max abs diff {diff} > {tolerance}')
    if args.save:
        torch.save({'base': net.widths[0], 'stateDict': net.state_dict(), 'parity': fixture, 'model': source}, args.save)
        print(json.dumps({'saved': args.save, 'model': source, 'parityMaxAbsDiff': diff}))
        return
    dtypes = [torch.float32, torch.float16] if args.device == 'cuda' else [torch.float32]
    runs = [throughput(net, args.device, dtype, args.tile, batch, args.iterations) for dtype in dtypes for batch in args.batch]
    device_name = torch.cuda.get_device_name(0) if args.device == 'cuda' else 'cpu'
    print(json.dumps({'what': 'PyTorch forward passes of the shipped weights (channels-last, no grad)', 'model': source,
                      'device': args.device, 'deviceName': device_name, 'torch': torch.__version__, 'parityMaxAbsDiff': diff, 'runs': runs}, indent=2))


if __name__ == '__main__':
    main()
