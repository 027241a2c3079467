"""How much context margin the tiled inference needs: compare whole-image probabilities with tiles of
`tileSize` model pixels read with margin m (only the centre kept), on a seamless mosaic of slide-A *train*
tiles (grid rows 2-3, columns 2-7; never the eval region). Windows past the mosaic edge are filled with
zeros in normalised space (the mean colour); only the mosaic interior, away from its outer edge, is compared.
Usage: /usr/bin/python3 training/margin_check.py [--checkpoint training/runs/glomseg-unet.pt]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import load_tile, read_splits  # noqa: E402
from model import UNet  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mosaic(data_dir, factor, rows=(2, 3), cols=range(2, 8)):
    by_pos = {(int(r['grid_row']), int(r['grid_col'])): r for r in read_splits(data_dir)
              if r['slide'] == 'A' and r['split'] == 'train'}
    lines = []
    for gr in rows:
        lines.append(np.concatenate([load_tile(data_dir, by_pos[(gr, gc)]['tile_id'], factor)[0] for gc in cols], axis=1))
    return np.concatenate(lines, axis=0)


@torch.no_grad()
def run(model, x):
    return torch.sigmoid(model(x))[0, 0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--checkpoint', default=os.path.join(REPO, 'training', 'runs', 'glomseg-unet.pt'))
    p.add_argument('--data', default=os.path.join(REPO, '..', 'shared', 'data', 'hubmap-vu'))
    p.add_argument('--tile', type=int, default=256)
    p.add_argument('--margins', default='16,32,48,64')
    p.add_argument('--threshold', type=float, default=0.5)
    args = p.parse_args()
    torch.set_num_threads(2)
    ck = torch.load(args.checkpoint, map_location='cpu')
    model = UNet(ck['base'], 4, ck['maxWidth'])
    model.load_state_dict(ck['state'])
    model.eval()
    img = mosaic(args.data, ck['downsample'])
    h, w = img.shape[0] // 16 * 16, img.shape[1] // 16 * 16
    mean = torch.tensor(ck['mean']).view(3, 1, 1)
    std = torch.tensor(ck['std']).view(3, 1, 1)
    x = (torch.from_numpy(img[:h, :w].copy()).permute(2, 0, 1).float() / 255.0 - mean) / std
    whole = run(model, x[None])
    border = 96  # ignore the mosaic's own outer edge, which the whole-image run also sees
    print(f'mosaic {w}x{h} model px; tile {args.tile}; compare interior (>{border} px from the mosaic edge)')
    for m in [int(v) for v in args.margins.split(',')]:
        tiled = torch.zeros(h, w)
        pad = torch.zeros(3, h + 2 * m + args.tile, w + 2 * m + args.tile)  # 0 = mean colour after normalisation
        pad[:, m:m + h, m:m + w] = x
        for ty in range(0, h, args.tile):
            for tx in range(0, w, args.tile):
                win = pad[:, ty:ty + args.tile + 2 * m, tx:tx + args.tile + 2 * m]
                prob = run(model, win[None])
                kh, kw = min(args.tile, h - ty), min(args.tile, w - tx)
                tiled[ty:ty + kh, tx:tx + kw] = prob[m:m + kh, m:m + kw]
        a = whole[border:-border, border:-border]
        b = tiled[border:-border, border:-border]
        diff = (a - b).abs()
        flips = ((a >= args.threshold) != (b >= args.threshold)).float().mean()
        pa, pb = a >= args.threshold, b >= args.threshold
        dice = 2 * (pa & pb).sum() / (pa.sum() + pb.sum()).clamp(min=1)
        print(f'margin {m:3d}: max |dp| {diff.max():.4f}, mean |dp| {diff.mean():.5f}, '
              f'pixels flipped at {args.threshold}: {flips * 100:.3f}%, Dice(tiled, whole) {dice:.4f}', flush=True)


if __name__ == '__main__':
    main()
