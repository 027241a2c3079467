"""What a training step costs on this machine, for the capacity choices of training/README.md: the shipped U-Net
against a wider one and against 1 um/px input (twice the pixels per side for the same field of view), and the U-Net
on the MobileNetV2 encoder at 2 and 1 um/px.

    /usr/bin/python3 training/step_cost.py [--threads 2] [--steps 4] [--only mobilenet]
Prints seconds per optimiser step (forward, backward, AdamW) on random inputs; steps per hour follow from it.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import MobileNetUNet, UNet, count_params  # noqa: E402

CASES = [
    (lambda: UNet(16, 4, 128), 192, 'shipped: width 16, 2 um/px, 192 px crops'),
    (lambda: UNet(24, 4, 192), 192, 'width 24, 2 um/px, 192 px crops'),
    (lambda: UNet(16, 4, 128), 384, 'width 16, 1 um/px, 384 px crops (the same field of view)'),
    (MobileNetUNet, 192, 'mobilenet-unet, 2 um/px, 192 px crops'),
    (MobileNetUNet, 384, 'mobilenet-unet, 1 um/px, 384 px crops (the same field of view)'),
]


def seconds_per_step(build, crop, batch, steps):
    model = build().to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    x = torch.randn(batch, 3, crop, crop).contiguous(memory_format=torch.channels_last)
    y = torch.rand(batch, 1, crop, crop)
    for i in range(steps + 1):
        if i == 1:  # the first step allocates: not timed
            started = time.time()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.time() - started) / steps, count_params(model)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=4)
    p.add_argument('--batch', type=int, default=6)
    p.add_argument('--only', default='', help='only the cases whose description contains this')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    for build, crop, what in CASES:
        if args.only not in what:
            continue
        seconds, params = seconds_per_step(build, crop, args.batch, args.steps)
        print(f'{what}: {params / 1e6:.2f} M parameters, {seconds:.2f} s/step at batch {args.batch} '
              f'({args.threads} threads), {3600 / seconds:.0f} steps/hour', flush=True)


if __name__ == '__main__':
    main()
