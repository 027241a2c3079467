"""ImageNet MobileNetV2 weights for the U-Net encoder, ported from the Keras model the npm package nsfwjs@4.4.0 ships
(MIT licence; dev dependency, so `npm ci` fetches it reproducibly). nsfwjs fine-tuned the top of an ImageNet
MobileNetV2 (alpha 1.0, 224 px) and froze every layer before block_11_expand (each layer's `trainable` in its
topology), so Conv1 .. block_10 are the ImageNet convolutions; blocks 11-13 moved off ImageNet.

    /usr/bin/python3 training/mobilenet_v2_from_nsfwjs.py [--out training/runs/mobilenet_v2_nsfwjs.pt]
    /usr/bin/python3 training/mobilenet_v2_from_nsfwjs.py parity IMAGE OUT_DIR   (for test/training/mobilenet-parity)

The weights are uint8-quantised per tensor: value = min + scale * q (the manifest's `quantization`). Quantisation
set some BatchNorm moving variances to 0 (q = 0 at min 0), which amplifies those channels by 1/sqrt(1e-3) = 32 in
inference mode: the port keeps that (the parity test compares the file as it is), and training recalibrates every
BatchNorm on kidney crops before it starts (recalibrate_batchnorm).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mobilenet_encoder import BN_EPS, MobileNetV2Encoder  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXTRACT = os.path.join(HERE, 'nsfwjs_mobilenet_v2.mjs')
DEFAULT_OUT = os.path.join(HERE, 'runs', 'mobilenet_v2_nsfwjs.pt')
SOURCE = 'nsfwjs@4.4.0 dist/models/mobilenet_v2 (Keras MobileNetV2 alpha 1.0, ImageNet; MIT licence)'


def extract(folder):
    """The package's model as model.json + weights.bin in `folder` (nsfwjs_mobilenet_v2.mjs)."""
    subprocess.run(['node', EXTRACT, folder], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(folder, 'model.json')) as f:
        model = json.load(f)
    with open(os.path.join(folder, 'weights.bin'), 'rb') as f:
        data = f.read()
    return model, data


def dequantise(manifest, data):
    """{name: float32 numpy array} from the shard bytes, in manifest order."""
    out, offset = {}, 0
    for spec in manifest:
        count = int(np.prod(spec['shape'])) if spec['shape'] else 1
        q = spec.get('quantization')
        if q:
            assert q['dtype'] == 'uint8', q
            raw = np.frombuffer(data, np.uint8, count, offset).astype(np.float64)
            values = (q['min'] + q['scale'] * raw).astype(np.float32)
            offset += count
        else:
            values = np.frombuffer(data, np.float32, count, offset).copy()
            offset += 4 * count
        out[spec['name']] = values.reshape(spec['shape'])
    assert offset == len(data), (offset, len(data))
    return out


def check_topology(topology, encoder):
    """The Keras model is what MobileNetV2Encoder builds: every stride-2 pad is ((0, 1), (0, 1)), BatchNorm eps 1e-3."""
    layers = {l['name']: l for l in topology['model_config']['config']['layers']}
    for name, module in encoder.layers.items():
        conv = layers[name]['config']
        assert tuple(conv['strides']) == (module.stride,) * 2, name
        if module.stride == 2:
            pad = layers[layers[name]['inbound_nodes'][0][0][0]]
            assert pad['class_name'] == 'ZeroPadding2D' and pad['config']['padding'] == [[0, 1], [0, 1]], name
        bn = layers['bn_Conv1' if name == 'Conv1' else f'{name}_BN']['config']
        assert abs(bn['epsilon'] - BN_EPS) < 1e-9, name
    frozen = [l['name'] for l in layers.values() if not l['config'].get('trainable', True)]
    return frozen


def load_encoder(encoder=None, verbose=False):
    """A MobileNetV2Encoder (or the given one) filled with the package's weights; returns (encoder, report)."""
    encoder = encoder or MobileNetV2Encoder()
    with tempfile.TemporaryDirectory() as folder:
        model, data = extract(folder)
    frozen = check_topology(model['modelTopology'], encoder)
    weights = dequantise(model['weightsManifest'][0]['weights'], data)
    zero_var = 0
    with torch.no_grad():
        for name, tensor, kind in encoder.keras_weights():
            value = weights[name]
            if kind == 'conv':  # Keras kh,kw,in,out -> out,in,kh,kw
                value = value.transpose(3, 2, 0, 1)
            elif kind == 'depthwise':  # kh,kw,channels,1 -> channels,1,kh,kw
                value = value.transpose(2, 3, 0, 1)
            else:
                zero_var += int((value == 0).sum()) if name.endswith('moving_variance') else 0
            assert tuple(value.shape) == tuple(tensor.shape), (name, value.shape, tensor.shape)
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    report = {'source': SOURCE, 'tensors': len(encoder.keras_weights()), 'zeroVariances': zero_var,
              'imagenetThrough': frozen[-1] if frozen else None}
    if verbose:
        print(json.dumps(report), flush=True)
    return encoder, report


@torch.no_grad()
def recalibrate_batchnorm(module, batches):
    """Every BatchNorm's running statistics re-measured as the cumulative average over `batches` (inputs the module
    takes), the weights untouched: the quantised file's statistics (some variances 0) do not fit kidney tiles."""
    norms = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    saved = [(m.momentum, m.training) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
        m.train()
    for x in batches:
        module(x)
    for m, (momentum, training) in zip(norms, saved):
        m.momentum = momentum
        m.train(training)


def parity(image, out_dir):
    """Pooled features of the truncated encoder on a 224x224 crop of `image` (the Keras model's fixed input size);
    writes the crop as input.f32 (1,224,224,3 float32 NHWC in [0,1]) for @tensorflow/tfjs, prints JSON."""
    from PIL import Image
    img = Image.open(image).convert('RGB')
    w, h = img.size
    side = min(w, h)
    img = img.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
    x = np.asarray(img.resize((224, 224), Image.BILINEAR), dtype=np.float32) / 255.0
    os.makedirs(out_dir, exist_ok=True)
    x[None].astype('<f4').tofile(os.path.join(out_dir, 'input.f32'))
    encoder, report = load_encoder()
    encoder.eval()
    with torch.no_grad():
        feats = encoder(torch.from_numpy(x).permute(2, 0, 1)[None])[-1]
    pooled = feats.mean(dim=(2, 3))[0]
    print(json.dumps({'layer': encoder.last, 'shape': list(feats.shape), 'features': pooled.tolist(), **report}))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == 'parity':
        return parity(sys.argv[2], sys.argv[3])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default=DEFAULT_OUT)
    args = p.parse_args()
    encoder, report = load_encoder(verbose=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({'state': encoder.state_dict(), **report}, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
