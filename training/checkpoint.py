"""A model's PyTorch checkpoint: what training/adapt.py fine-tunes, named in the card (`checkpoint`: file, sha256, arch).

  /usr/bin/python3 training/checkpoint.py from-onnx [MODEL_FOLDER]   # rebuild models/glomseg-unet.pt from the ONNX
  /usr/bin/python3 training/checkpoint.py name MODEL_FOLDER FILE.pt  # name a checkpoint (e.g. train.py's) in the card
  /usr/bin/python3 training/checkpoint.py probabilities CKPT.pt INPUT.png OUT.bin --card CARD.json
                                                         # sigmoid(logits) as float32 LE, for the parity test

File format (train_export.write_extras writes the same for a new run): a dict with 'arch' (model.ARCHITECTURES key),
'state' (state_dict), 'base' and 'maxWidth' (unet widths), 'mean' and 'std' (the card's input normalisation),
'downsample'. `from-onnx` adds 'onnxSha256' and 'foldedBatchNorm': the shipped ONNX has each BatchNorm folded into
the convolution before it, so the rebuilt U-Net holds those convolutions and identity BatchNorms (running mean 0,
variance 1 - eps, weight 1, bias = the folded bias): in eval mode it computes the file's function exactly.
"""
import argparse
import hashlib
import json
import os
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import ARCHITECTURES  # noqa: E402
from warm_start import forward_convs  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def build(checkpoint):
    """The network a checkpoint's weights belong to, with them loaded (eval mode)."""
    arch = checkpoint.get('arch', 'unet')
    if arch not in ARCHITECTURES:
        raise ValueError(f"checkpoint architecture '{arch}' is not one of {sorted(ARCHITECTURES)}")
    model = ARCHITECTURES[arch].build(types.SimpleNamespace(base=checkpoint.get('base', 16),
                                                           max_width=checkpoint.get('maxWidth', 128)))
    model.load_state_dict(checkpoint['state'])
    return model.eval()


def load(path):
    return torch.load(path, map_location='cpu')


@torch.no_grad()
def unet_from_onnx(onnx_path):
    """model.py's U-Net holding the ONNX file's folded convolutions exactly (see the module docstring)."""
    import onnx
    from onnx import numpy_helper
    graph = onnx.load(onnx_path).graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    nodes = [n for n in graph.node if n.op_type == 'Conv']
    base = int(weights[nodes[0].input[1]].shape[0])
    max_width = max(int(weights[n.input[1]].shape[0]) for n in nodes)
    model = ARCHITECTURES['unet'].build(types.SimpleNamespace(base=base, max_width=max_width))
    convs = forward_convs(model)
    if len(nodes) != len(convs):
        raise ValueError(f'{onnx_path} has {len(nodes)} convolutions; a U-Net of base {base} has {len(convs)}')
    for node, (conv, bn, _) in zip(nodes, convs):
        w = weights[node.input[1]]
        b = weights[node.input[2]] if len(node.input) > 2 else torch.zeros(w.shape[0])
        if tuple(w.shape) != tuple(conv.weight.shape):
            raise ValueError(f'{onnx_path}: Conv {node.name} {tuple(w.shape)} does not fit {tuple(conv.weight.shape)}')
        conv.weight.copy_(w)
        if bn is None:
            conv.bias.copy_(b)
        else:
            bn.running_mean.zero_()
            bn.running_var.fill_(1 - bn.eps)  # sqrt(var + eps) == 1 exactly
            bn.weight.fill_(1)
            bn.bias.copy_(b)
    return model.eval(), base, max_width


def card_path(folder):
    return os.path.join(folder, 'glomseg-unet.json')


def name_in_card(folder, checkpoint_file):
    """Writes the card's `checkpoint` field (file relative to the card, sha256, arch); other fields untouched."""
    path = card_path(folder)
    with open(path) as f:
        card = json.load(f)
    arch = load(checkpoint_file).get('arch', 'unet')
    card['checkpoint'] = {'file': os.path.relpath(checkpoint_file, folder), 'sha256': sha256(checkpoint_file),
                          'arch': arch}
    with open(path + '.tmp', 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    os.replace(path + '.tmp', path)
    return card['checkpoint']


def from_onnx(folder):
    """models/glomseg-unet.pt rebuilt from the card's ONNX file, proved on the parity fixture, and named in the card."""
    with open(card_path(folder)) as f:
        card = json.load(f)
    onnx_path = os.path.join(folder, card['file'])
    model, base, max_width = unet_from_onnx(onnx_path)
    diff = fixture_diff(model)
    if diff > 1e-4:
        raise SystemExit(f'the rebuilt weights miss the parity fixture by {diff} (> 1e-4): not written')
    out = os.path.join(folder, os.path.splitext(card['file'])[0] + '.pt')
    checkpoint = {'arch': 'unet', 'state': model.state_dict(), 'base': base, 'maxWidth': max_width,
                  'mean': card['input']['mean'], 'std': card['input']['std'], 'downsample': card.get('downsample', 4),
                  'onnxSha256': sha256(onnx_path), 'foldedBatchNorm': True}
    torch.save(checkpoint, out + '.tmp')
    os.replace(out + '.tmp', out)
    named = name_in_card(folder, out)
    return {'checkpoint': os.path.relpath(out, REPO), **named, 'parityMaxAbsDiff': diff}


def fixture_diff(model):
    """Largest |probability| difference from the committed parity fixture (made by PyTorch from the shipped ONNX)."""
    from torch_limit import parity, parity_fixture
    return parity(model, parity_fixture())[0]


@torch.no_grad()
def probabilities(checkpoint_file, image, card):
    """sigmoid(logits) of a checkpoint on one RGB image, normalised as the card says (no stain normalisation)."""
    import numpy as np
    from PIL import Image
    rgb = np.asarray(Image.open(image).convert('RGB'), dtype=np.float32)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None] / float(card['input']['scale'])
    x = (x - torch.tensor(card['input']['mean']).view(1, 3, 1, 1)) / torch.tensor(card['input']['std']).view(1, 3, 1, 1)
    return torch.sigmoid(build(load(checkpoint_file))(x))[0, 0].numpy().astype('<f4')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    rebuild = sub.add_parser('from-onnx')
    rebuild.add_argument('folder', nargs='?', default=os.path.join(REPO, 'models'))
    name = sub.add_parser('name')
    name.add_argument('folder')
    name.add_argument('checkpoint')
    probs = sub.add_parser('probabilities')
    probs.add_argument('checkpoint')
    probs.add_argument('image')
    probs.add_argument('out')
    probs.add_argument('--card', default=card_path(os.path.join(REPO, 'models')))
    args = parser.parse_args()
    if args.command == 'from-onnx':
        print(json.dumps(from_onnx(args.folder)))
    elif args.command == 'name':
        print(json.dumps(name_in_card(args.folder, args.checkpoint)))
    else:
        with open(args.card) as f:
            card = json.load(f)
        probabilities(args.checkpoint, args.image, card).tofile(args.out)


if __name__ == '__main__':
    main()
