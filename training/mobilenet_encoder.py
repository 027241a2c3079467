"""MobileNetV2 (alpha 1.0) as Keras builds it, in PyTorch, with Keras's layer names, for weights ported from a Keras
model (mobilenet_v2_from_nsfwjs.py). Differences from torchvision's MobileNetV2 that matter for ported weights:
stride-2 convolutions pad only bottom and right (Keras ZeroPadding2D ((0, 1), (0, 1))), BatchNorm epsilon 1e-3.

`MobileNetV2Encoder(last)` stops after the named Keras layer ('block_13_expand_relu' by default: stride 16) and
returns the feature maps named in `taps`, in order, so a U-Net can take its skips from them.
"""
import torch
from torch import nn
import torch.nn.functional as F

# (expansion, output channels, repeats, first stride): the MobileNetV2 paper's table, Keras block numbering.
BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
BN_EPS = 1e-3
# The expansion outputs a U-Net on MobileNetV2 usually takes its skips from (strides 2, 4, 8, 16) and their widths.
DEFAULT_TAPS = ('block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu', 'block_13_expand_relu')


def block_specs():
    """[(keras prefix, in channels, expansion, out channels, stride)] for blocks 0..16."""
    specs, cin, k = [], 32, 0
    for t, c, n, s in BLOCKS:
        for i in range(n):
            specs.append(('expanded_conv' if k == 0 else f'block_{k}', cin, t, c, s if i == 0 else 1))
            cin, k = c, k + 1
    return specs


class ConvBN(nn.Module):
    """Conv (no bias) + BatchNorm (+ ReLU6); stride 2 pads bottom/right only, as Keras does."""

    def __init__(self, cin, cout, kernel, stride=1, groups=1, relu=True):
        super().__init__()
        self.stride, self.kernel, self.relu = stride, kernel, relu
        pad = 0 if stride == 2 or kernel == 1 else kernel // 2
        self.conv = nn.Conv2d(cin, cout, kernel, stride, pad, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x):
        if self.stride == 2:
            x = F.pad(x, (0, 1, 0, 1))
        x = self.bn(self.conv(x))
        return F.relu6(x) if self.relu else x


class MobileNetV2Encoder(nn.Module):
    def __init__(self, last='block_13_expand_relu', taps=DEFAULT_TAPS):
        super().__init__()
        self.taps = tuple(taps)
        self.layers = nn.ModuleDict()  # Keras layer name (conv + its BN) -> module, in forward order
        self.residual = {}  # name of a project layer -> True when its block adds its input
        self.channels = {}  # tapped name -> channels
        self.layers['Conv1'] = ConvBN(3, 32, 3, 2)
        self.channels['Conv1_relu'] = 32
        self.names = [('Conv1', 'Conv1_relu')]
        done = last == 'Conv1_relu'
        for prefix, cin, t, cout, s in block_specs():
            if done:
                break
            hidden = cin * t
            steps = []
            if t != 1:
                steps.append((f'{prefix}_expand', ConvBN(cin, hidden, 1), f'{prefix}_expand_relu', hidden))
            steps.append((f'{prefix}_depthwise', ConvBN(hidden, hidden, 3, s, groups=hidden),
                          f'{prefix}_depthwise_relu', hidden))
            steps.append((f'{prefix}_project', ConvBN(hidden, cout, 1, relu=False),
                          f'{prefix}_add' if s == 1 and cin == cout else f'{prefix}_project_BN', cout))
            for name, module, output, width in steps:
                self.layers[name] = module
                self.names.append((name, output))
                self.channels[output] = width
                if name.endswith('_project') and s == 1 and cin == cout:
                    self.residual[name] = True
                if output == last:
                    done = True
                    break
        assert done, f'unknown last layer {last}'
        assert all(t in self.channels for t in self.taps), self.taps
        self.last = last

    def tap_channels(self):
        return [self.channels[t] for t in self.taps]

    def forward(self, x):
        """x: N,3,H,W RGB in [0, 1]; returns the tapped feature maps (H, W a multiple of the deepest tap's stride)."""
        out = []
        block_input = x
        for name, output in self.names:
            if name.endswith('_expand') or (name.endswith('_depthwise') and name.startswith('expanded_conv')):
                block_input = x
            y = self.layers[name](x)
            x = y + block_input if name in self.residual else y
            if output in self.taps:
                out.append(x)
        return out

    def keras_weights(self):
        """[(keras weight name, torch tensor, kind)]: the tensors a Keras MobileNetV2 checkpoint fills."""
        rows = []
        for name, module in self.layers.items():
            bn = 'bn_Conv1' if name == 'Conv1' else f'{name}_BN'
            kind = 'depthwise' if module.conv.groups > 1 else 'conv'
            rows.append((f'{name}/{"depthwise_kernel" if kind == "depthwise" else "kernel"}', module.conv.weight, kind))
            for keras, tensor in (('gamma', module.bn.weight), ('beta', module.bn.bias),
                                  ('moving_mean', module.bn.running_mean), ('moving_variance', module.bn.running_var)):
                rows.append((f'{bn}/{keras}', tensor, 'vector'))
        return rows
