"""Batch sampling with geometric and stain augmentation, all on tensors (one grid_sample per batch)."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dataset import jpeg_roundtrip

# Stain matrix for colour deconvolution (Ruifrok & Johnston, as in skimage.color.rgb2hed); PAS is not H&E,
# but jittering along these optical-density axes mimics stain strength variation between slides.
RGB_FROM_HED = torch.tensor([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
HED_FROM_RGB = torch.linalg.inv(RGB_FROM_HED)
# YIQ, to rotate hue with a linear map.
RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)


def sample_geometry(n, crop, width, height, gen, scale_range=(0.8, 1.25)):
    """Affine thetas mapping an output crop to a random window of the tile: scale, 90-degree turns, flips."""
    thetas = torch.zeros(n, 2, 3)
    lo, hi = math.log(scale_range[0]), math.log(scale_range[1])
    for i in range(n):
        s = math.exp(lo + (hi - lo) * torch.rand(1, generator=gen).item())
        k = int(torch.randint(0, 4, (1,), generator=gen))
        flip = bool(torch.randint(0, 2, (1,), generator=gen))
        c, sn = [(1, 0), (0, 1), (-1, 0), (0, -1)][k]
        rot = torch.tensor([[c, -sn], [sn, c]], dtype=torch.float32)
        if flip:
            rot = rot @ torch.tensor([[-1.0, 0.0], [0.0, 1.0]])
        half = crop / 2 / s  # half extent of the window in tile pixels
        # Window centre: anywhere that keeps it inside the tile when possible (reflection pads otherwise).
        mx = max(width / 2 - half, 0.0)
        my = max(height / 2 - half, 0.0)
        cx = (torch.rand(1, generator=gen).item() * 2 - 1) * mx
        cy = (torch.rand(1, generator=gen).item() * 2 - 1) * my
        # Output normalised coords -> tile pixels (relative to centre) -> tile normalised coords.
        a = torch.diag(torch.tensor([2.0 / width, 2.0 / height])) @ (rot * half)
        thetas[i, :, :2] = a
        thetas[i, 0, 2] = cx * 2.0 / width
        thetas[i, 1, 2] = cy * 2.0 / height
    return thetas


def colour_jitter(x, gen, strength=1.0):
    """x: N,3,H,W in [0,1]. HED-like stain jitter, then brightness, contrast, saturation and hue."""
    n = x.shape[0]

    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(n, *shape, generator=gen)

    od = -torch.log(x.clamp(min=1.0 / 255))
    hed = torch.einsum('nchw,cd->ndhw', od, HED_FROM_RGB)
    hed = hed * u(1 - 0.08 * strength, 1 + 0.08 * strength, 3, 1, 1) + u(-0.02 * strength, 0.02 * strength, 3, 1, 1)
    x = torch.exp(-torch.einsum('ndhw,dc->nchw', hed, RGB_FROM_HED)).clamp(0, 1)

    x = x * u(1 - 0.1 * strength, 1 + 0.1 * strength, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * u(1 - 0.1 * strength, 1 + 0.1 * strength, 1, 1, 1) + mean
    gray = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
    x = (x - gray) * u(1 - 0.15 * strength, 1 + 0.15 * strength, 1, 1, 1) + gray
    angle = u(-0.04 * strength, 0.04 * strength) * 2 * math.pi
    yiq = torch.einsum('nchw,dc->ndhw', x, RGB_TO_YIQ)
    cos, sin = torch.cos(angle).view(n, 1, 1), torch.sin(angle).view(n, 1, 1)
    i2 = yiq[:, 1] * cos - yiq[:, 2] * sin
    q2 = yiq[:, 1] * sin + yiq[:, 2] * cos
    yiq = torch.stack([yiq[:, 0], i2, q2], dim=1)
    x = torch.einsum('ndhw,cd->nchw', yiq, YIQ_TO_RGB)
    return x.clamp(0, 1)


def jpeg_jitter(x, gen, prob=0.5, quality=(70, 95)):
    """x: N,3,H,W in [0,1]. Some crops go through JPEG (4:2:0) at a random quality, as pyramid levels are stored."""
    out = x.clone()
    for i in range(x.shape[0]):
        if torch.rand(1, generator=gen).item() >= prob:
            continue
        q = int(torch.randint(quality[0], quality[1] + 1, (1,), generator=gen))
        u8 = (x[i].permute(1, 2, 0) * 255).round().clamp(0, 255).to(torch.uint8).numpy()
        coded = np.asarray(jpeg_roundtrip(Image.fromarray(u8), q), dtype=np.float32) / 255.0
        out[i] = torch.from_numpy(coded).permute(2, 0, 1)
    return out


class BatchSampler:
    """Random augmented crops from tiles held in memory as uint8 tensors (N,3,H,W) and masks (N,1,H,W).

    `variants` is a list of the same tiles downsampled with different kernels (dataset.RESAMPLERS): each crop
    takes one at random, so the model sees both soft (box) and sharp (Lanczos) pyramid levels.
    """

    def __init__(self, variants, masks, crop, batch, seed, jpeg_prob=0.0):
        self.variants = variants
        self.masks = masks
        self.crop = crop
        self.batch = batch
        self.jpeg_prob = jpeg_prob
        self.gen = torch.Generator().manual_seed(seed)

    def next(self):
        n, _, h, w = self.variants[0].shape
        idx = torch.randint(0, n, (self.batch,), generator=self.gen)
        pick = torch.randint(0, len(self.variants), (self.batch,), generator=self.gen)
        img = torch.stack([self.variants[int(v)][int(i)] for v, i in zip(pick, idx)]).float() / 255.0
        msk = self.masks[idx]
        theta = sample_geometry(self.batch, self.crop, w, h, self.gen)
        grid = F.affine_grid(theta, (self.batch, 1, self.crop, self.crop), align_corners=False)
        img = F.grid_sample(img, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
        msk = F.grid_sample(msk, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
        img = colour_jitter(img, self.gen)
        if self.jpeg_prob > 0:
            img = jpeg_jitter(img, self.gen, self.jpeg_prob)
        return img, msk
