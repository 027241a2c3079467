"""The segmentation networks, by name (ARCHITECTURES): 'unet', a small U-Net trained from scratch (four poolings,
inputs a multiple of 16, BatchNorm + ReLU, skip connections), and 'mobilenet-unet', a U-Net on the ImageNet
MobileNetV2 encoder (mobilenet_encoder.py; inputs a multiple of 16, RGB in [0, 1])."""
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


def conv_bn_relu(cin, cout, kernel):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class MobileNetUNet(nn.Module):
    """MobileNetV2 through block_13_expand_relu (stride 16) with skips from its expansions at strides 2, 4, 8 and 16,
    and a light decoder: per level, bilinear x2, concat the skip, 1x1 conv narrowing, 3x3 conv. The last level joins
    a small full-resolution stem on the input, so boundaries are drawn at the input's own pixels."""

    def __init__(self, widths=(96, 64, 48, 32, 16), stem=8):
        super().__init__()
        from mobilenet_encoder import MobileNetV2Encoder
        self.encoder = MobileNetV2Encoder()
        taps = self.encoder.tap_channels()  # strides 2, 4, 8, 16
        self.widths = list(widths)
        self.bottom = conv_bn_relu(taps[-1], widths[0], 1)
        self.stem = conv_bn_relu(3, stem, 3)
        skips = list(reversed(taps[:-1])) + [stem]  # strides 8, 4, 2, 1
        self.up = nn.ModuleList()
        for cin, skip, cout in zip(widths[:-1], skips, widths[1:]):
            self.up.append(nn.Sequential(conv_bn_relu(cin + skip, cout, 1), conv_bn_relu(cout, cout, 3)))
        self.head = nn.Conv2d(widths[-1], 1, 1)

    def forward(self, x):
        feats = self.encoder(x)
        skips = feats[:-1][::-1] + [self.stem(x)]
        x = self.bottom(feats[-1])
        for block, skip in zip(self.up, skips):
            x = F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)


class Architecture:
    """How train.py builds a network from its arguments, and whether the network fixes its input range (RGB in
    [0, 1]: the card's mean 0, std 1) or takes the training tiles' own mean and std."""

    def __init__(self, build, unit_input, describe):
        self.build, self.unit_input, self.describe = build, unit_input, describe


# Registry: train.py --arch picks one.
ARCHITECTURES = {
    'unet': Architecture(lambda args: UNet(args.base, 4, args.max_width), False,
                         lambda m: f'U-Net depth 4, widths {m.widths}, BatchNorm+ReLU, bilinear upsampling'),
    'mobilenet-unet': Architecture(
        lambda args: MobileNetUNet(), True,
        lambda m: f'U-Net on MobileNetV2 (alpha 1.0, ImageNet, through block_13_expand_relu; skips at strides '
                  f'2, 4, 8, 16), decoder widths {m.widths}, full-resolution stem, BatchNorm+ReLU, bilinear upsampling'),
}


def count_params(model):
    return sum(p.numel() for p in model.parameters())
