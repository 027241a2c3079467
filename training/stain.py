"""Stain statistics and Reinhard normalisation, the same maths as shared/src/colour-lab.ts, tissue-mask.ts and
stain-normalization.ts (test/training/stain-parity.test.ts holds them together), so that training and the server
normalise alike.

  /usr/bin/python3 training/stain.py reference [--data ../shared/data/hubmap-vu]   # the card's reference, as JSON
  /usr/bin/python3 training/stain.py stats IMAGE [--torch]                         # one image's statistics, as JSON
  /usr/bin/python3 training/stain.py normalise IMAGE OUT.png [--card models/glomseg-unet.json] [--torch]
                                                                # IMAGE mapped from its own statistics to the card's
--torch runs the same through stain_torch.py, the batch version train.py normalises its crops with.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import read_splits  # noqa: E402

WHITE = np.array([0.95047, 1.0, 1.08883])
EPSILON = (6 / 29) ** 3
KAPPA_INV = 1 / (3 * (6 / 29) ** 2)
RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.072175], [0.0193339, 0.119192, 0.9503041]])
XYZ_TO_RGB = np.array([[3.2404542, -1.5371385, -0.4985314], [-0.969266, 1.8760108, 0.041556], [0.0556434, -0.2040259, 1.0572252]])
# shared/src/tissue-mask.ts TISSUE_RULE
MIN_CHROMA, DARK_BELOW, BLACK_BELOW, GLASS_FROM = 15, 200, 25, 235
MIN_TISSUE_PIXELS = 500


def rgb_to_lab(rgb):
    """uint8 (..., 3) -> float64 (..., 3) CIE Lab, D65."""
    c = rgb.astype(np.float64) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ RGB_TO_XYZ.T / WHITE
    f = np.where(xyz > EPSILON, np.cbrt(xyz), xyz * KAPPA_INV + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_rgb(lab):
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f ** 3, (f - 4 / 29) / KAPPA_INV) * WHITE
    linear = xyz @ XYZ_TO_RGB.T
    c = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.maximum(linear, 0) ** (1 / 2.4) - 0.055)
    return np.clip(np.round(c * 255), 0, 255).astype(np.uint8)


def tissue_mask(rgb):
    v = rgb.astype(np.int32)
    mean = v.sum(axis=-1) / 3
    chroma = v.max(axis=-1) - v.min(axis=-1)
    return (mean >= BLACK_BELOW) & (mean < GLASS_FROM) & ((mean < DARK_BELOW) | (chroma >= MIN_CHROMA))


def statistics(rgb):
    """Lab mean and std over the tissue of an (H, W, 3) uint8 image, or None when it shows too little tissue."""
    mask = tissue_mask(rgb)
    if mask.sum() < MIN_TISSUE_PIXELS:
        return None
    lab = rgb_to_lab(rgb[mask])
    return {'mean': lab.mean(axis=0).tolist(), 'std': lab.std(axis=0).tolist(), 'tissuePixels': int(mask.sum()),
            'tissueFraction': float(mask.mean())}


def reinhard(rgb, source, reference):
    """Maps an image whose tissue has `source` statistics onto `reference` (both {'mean', 'std'})."""
    gain = np.array([r / s if s > 1e-6 else 1.0 for s, r in zip(source['std'], reference['std'])])
    lab = (rgb_to_lab(rgb) - np.array(source['mean'])) * gain + np.array(reference['mean'])
    return lab_to_rgb(lab)


def reference(data_dir, shrink=16):
    """The training set's statistics as the server measures a slide, on a low-resolution view: the split=train tiles,
    each box-shrunk by `shrink` (the survey sees a slide at 1/8 to 1/100 of full resolution), tissue pixels pooled."""
    pixels = []
    for row in read_splits(data_dir):
        if row['split'] != 'train':
            continue
        img = Image.open(os.path.join(data_dir, 'tiles', f"{row['tile_id']}.jpg")).convert('RGB')
        small = np.asarray(img.resize((img.width // shrink, img.height // shrink), Image.BOX))
        pixels.append(small.reshape(-1, 3))
    stats = statistics(np.concatenate(pixels)[None])
    return {'method': 'off', 'reference': {'mean': [round(v, 3) for v in stats['mean']], 'std': [round(v, 3) for v in stats['std']]},
            'measuredOn': f"CIE Lab over tissue of the {len(pixels)} split=train tiles, box-shrunk x{shrink} "
                          f"(training/stain.py reference)"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    ref = sub.add_parser('reference')
    ref.add_argument('--data', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'data', 'hubmap-vu'))
    one = sub.add_parser('stats')
    one.add_argument('image')
    one.add_argument('--torch', action='store_true')
    norm = sub.add_parser('normalise')
    norm.add_argument('image')
    norm.add_argument('out')
    norm.add_argument('--card', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'models', 'glomseg-unet.json'))
    norm.add_argument('--torch', action='store_true')
    args = parser.parse_args()
    if args.command == 'reference':
        print(json.dumps(reference(args.data), indent=2))
    elif args.command == 'stats':
        rgb = np.asarray(Image.open(args.image).convert('RGB'))
        print(json.dumps(torch_statistics(rgb) if args.torch else statistics(rgb)))
    else:
        rgb = np.asarray(Image.open(args.image).convert('RGB'))
        target = json.load(open(args.card))['stain']['reference']
        mapped = torch_reinhard(rgb, target) if args.torch else reinhard(rgb, statistics(rgb), target)
        Image.fromarray(mapped).save(args.out)


def torch_statistics(rgb):
    import torch
    import stain_torch
    pixels = torch.from_numpy(rgb.reshape(-1, 3).astype(np.float32))
    mean, std = stain_torch.statistics(pixels)
    return {'mean': mean.tolist(), 'std': std.tolist(), 'tissuePixels': int(stain_torch.tissue_mask(pixels).sum())}


def torch_reinhard(rgb, target):
    import torch
    import stain_torch
    image = torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)[None]
    source = stain_torch.statistics(image[0].permute(1, 2, 0).reshape(-1, 3))
    reference = (torch.tensor(target['mean']), torch.tensor(target['std']))
    return stain_torch.reinhard(image, source, reference)[0].permute(1, 2, 0).numpy().astype(np.uint8)


if __name__ == '__main__':
    main()
