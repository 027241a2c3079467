"""A small U-Net: four poolings (inputs a multiple of 16), BatchNorm + ReLU, skip connections."""
import torch
from torch import nn
import torch.nn.functional as F


def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, base=16, depth=4, max_width=128):
        super().__init__()
        widths = [min(base * 2 ** i, max_width) for i in range(depth + 1)]
        self.depth = depth
        self.widths = widths
        self.down = nn.ModuleList([double_conv(3, widths[0])])
        for i in range(1, depth + 1):
            self.down.append(double_conv(widths[i - 1], widths[i]))
        # Decoder: bilinear upsample (cheap, no checkerboard) then concat with the skip.
        # A 1x1 conv first narrows the deep features at low resolution, where it is cheap.
        self.reduce = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in range(depth, 0, -1):
            self.reduce.append(nn.Conv2d(widths[i], widths[i - 1], 1))
            self.up.append(double_conv(2 * widths[i - 1], widths[i - 1]))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        x = skips.pop()
        for reduce, block in zip(self.reduce, self.up):
            skip = skips.pop()
            x = F.interpolate(reduce(x), scale_factor=2.0, mode='bilinear', align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)


def count_params(model):
    return sum(p.numel() for p in model.parameters())
