"""Batch sampling with geometric and stain augmentation, all on tensors (one grid_sample per batch)."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dataset import jpeg_roundtrip
from stain_torch import reinhard, statistics

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
    `augment` 'mild' is the original colour jitter; 'strong' is sample_strong_colour plus blur, noise and JPEG down
    to quality 40. With `stain` (a StainSamples), each crop is then mapped with Reinhard from the statistics of the
    slide it stands for, measured as the server measures one: on that slide's low-resolution pixels, changed by the
    same colour augmentation.
    """

    def __init__(self, variants, masks, crop, batch, seed, jpeg_prob=0.0, augment='mild', scale_range=(0.8, 1.25),
                 stain=None):
        self.variants = variants
        self.masks = masks
        self.crop = crop
        self.batch = batch
        self.jpeg_prob = jpeg_prob
        self.augment = augment
        self.scale_range = scale_range
        self.stain = stain
        self.gen = torch.Generator().manual_seed(seed)

    def next(self):
        n, _, h, w = self.variants[0].shape
        idx = torch.randint(0, n, (self.batch,), generator=self.gen)
        pick = torch.randint(0, len(self.variants), (self.batch,), generator=self.gen)
        img = torch.stack([self.variants[int(v)][int(i)] for v, i in zip(pick, idx)]).float() / 255.0
        msk = self.masks[idx]
        theta = sample_geometry(self.batch, self.crop, w, h, self.gen, self.scale_range)
        grid = F.affine_grid(theta, (self.batch, 1, self.crop, self.crop), align_corners=False)
        img = F.grid_sample(img, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
        msk = F.grid_sample(msk, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
        if self.augment == 'strong':
            params = sample_strong_colour(self.batch, self.gen)
            img = blur_noise_jitter(apply_strong_colour(img, params), self.gen)
            if self.jpeg_prob > 0:
                img = jpeg_jitter(img, self.gen, self.jpeg_prob, quality=(40, 95))
            if self.stain is not None:
                img = self.stain.normalise(img, idx, params, self.gen)
        else:
            img = colour_jitter(img, self.gen)
            if self.jpeg_prob > 0:
                img = jpeg_jitter(img, self.gen, self.jpeg_prob)
        return img, msk


class StainSamples:
    """The pixels each training tile's slide statistics are measured on: the tile itself at low resolution, or its
    whole slide (the pooled low-resolution pixels of its slide's tiles), chosen per crop, since the server measures a
    whole slide while a lab's tiles may each be scored as an image of their own."""

    def __init__(self, tile_pixels, slide_of, reference, seed, slide_prob=0.5):
        self.tile_pixels = tile_pixels  # uint8 (N, K, 3)
        self.slide_of = slide_of  # list of slide names, one per tile
        self.slide_prob = slide_prob
        self.reference = reference  # (mean (3,), std (3,)) tensors
        gen = torch.Generator().manual_seed(seed)
        k = tile_pixels.shape[1]
        self.slide_pixels = {}
        for name in sorted(set(slide_of)):
            pooled = tile_pixels[[i for i, s in enumerate(slide_of) if s == name]].reshape(-1, 3)
            self.slide_pixels[name] = pooled[torch.randperm(pooled.shape[0], generator=gen)[:k]]

    def normalise(self, img, idx, params, gen):
        rows = []
        for i in idx.tolist():
            whole = torch.rand(1, generator=gen).item() < self.slide_prob
            px = self.slide_pixels[self.slide_of[i]] if whole else self.tile_pixels[i]
            rows.append(px)
        k = min(r.shape[0] for r in rows)
        samples = torch.stack([r[:k] for r in rows]).float().div(255).permute(0, 2, 1).unsqueeze(-1)  # N,3,K,1
        seen = (apply_strong_colour(samples, params) * 255).round().squeeze(-1).permute(0, 2, 1)  # N,K,3
        means, stds = [], []
        for i in range(seen.shape[0]):
            measured = statistics(seen[i])
            mean, std = measured if measured is not None else self.reference  # too little tissue: left as it is
            means.append(mean)
            stds.append(std)
        mapped = reinhard((img * 255).round(), (torch.stack(means), torch.stack(stds)), self.reference)
        return mapped / 255.0

def _log_uniform(n, lo, hi, gen, *shape):
    return torch.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * torch.rand(n, *shape, generator=gen))


def sample_strong_colour(n, gen):
    """Per-crop parameters of the strong colour augmentation (`--augment strong`), drawn once so that the same
    change can be applied to a crop and to the pixels its slide's statistics are measured on. The ranges cover
    what other labs' slides show (and the stress validation's transformations, with margin): stain amounts x0.6-1.6,
    perturbed stain vectors, gamma 0.6-1.7, fading towards white, brightness/contrast, saturation x0.4-1.7, hue."""
    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(n, *shape, generator=gen)

    perturb = (torch.rand(n, generator=gen) < 0.35).float().view(n, 1, 1)
    matrix = RGB_FROM_HED.expand(n, 3, 3) + perturb * 0.12 * torch.randn(n, 3, 3, generator=gen)
    matrix = matrix.clamp(min=0.02)
    fade = torch.where(torch.rand(n, generator=gen) < 0.3, u(0.0, 0.45), torch.zeros(n))
    return {'od_scale': _log_uniform(n, 0.6, 1.6, gen, 3), 'od_shift': u(-0.05, 0.05, 3), 'matrix': matrix,
            'gamma': _log_uniform(n, 1 / 1.7, 1.7, gen), 'fade': fade, 'brightness': u(0.8, 1.2),
            'contrast': u(0.7, 1.4), 'saturation': _log_uniform(n, 0.4, 1.7, gen), 'hue': u(-0.06, 0.06)}


def apply_strong_colour(x, p):
    """x: N,3,H,W in [0,1] (any H, W: a crop or a column of sample pixels); p from sample_strong_colour."""
    n = x.shape[0]
    view = lambda t: t.view(n, 1, 1, 1)  # noqa: E731
    od = -torch.log(x.clamp(min=1.0 / 255))
    hed = torch.einsum('nchw,cd->ndhw', od, HED_FROM_RGB)
    hed = hed * p['od_scale'].view(n, 3, 1, 1) + p['od_shift'].view(n, 3, 1, 1)
    x = torch.exp(-torch.einsum('ndhw,ndc->nchw', hed, p['matrix'])).clamp(0, 1)
    x = x ** view(p['gamma'])
    x = x + (1 - x) * view(p['fade'])
    x = ((x * view(p['brightness']) - 0.6) * view(p['contrast']) + 0.6).clamp(0, 1)
    gray = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    x = ((x - gray) * view(p['saturation']) + gray).clamp(0, 1)
    angle = p['hue'] * 2 * math.pi
    yiq = torch.einsum('nchw,dc->ndhw', x, RGB_TO_YIQ)
    cos, sin = torch.cos(angle).view(n, 1, 1), torch.sin(angle).view(n, 1, 1)
    yiq = torch.stack([yiq[:, 0], yiq[:, 1] * cos - yiq[:, 2] * sin, yiq[:, 1] * sin + yiq[:, 2] * cos], dim=1)
    return torch.einsum('ndhw,cd->nchw', yiq, YIQ_TO_RGB).clamp(0, 1)


def blur_noise_jitter(x, gen, blur_prob=0.25, noise_prob=0.3):
    """Optical blur (Gaussian, sigma 0.4-1.4 px) and sensor noise (sigma up to 10 levels) on some crops."""
    out = x.clone()
    for i in range(x.shape[0]):
        if torch.rand(1, generator=gen).item() < blur_prob:
            sigma = 0.4 + torch.rand(1, generator=gen).item()
            r = max(1, int(math.ceil(2.5 * sigma)))
            k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma ** 2))
            k = (k / k.sum()).view(1, 1, 1, -1).expand(3, 1, 1, -1)
            y = F.pad(out[i:i + 1], (r, r, r, r), mode='reflect')
            y = F.conv2d(y, k, groups=3)
            out[i:i + 1] = F.conv2d(y, k.transpose(2, 3), groups=3)
        if torch.rand(1, generator=gen).item() < noise_prob:
            sigma = torch.rand(1, generator=gen).item() * 10 / 255
            out[i] = out[i] + sigma * torch.randn(out[i].shape, generator=gen)
    return out.clamp(0, 1)


def domain_views(x, gen, grey_prob=0.2, mix_prob=0.5):
    """What makes H&E and pale PAS look alike to the net (`--domain-views`), on crops after stain normalisation (the
    normalised look still differs between stains and labs): per crop, on `mix_prob` of them the stain amounts are
    mixed and rotated in optical density (HED: each stain takes up to 30 % of another's amount, the H-E plane turns
    by up to +-25 degrees, so eosin pink and PAS magenta trade places with haematoxylin blue); then strong brightness
    (x0.7-1.35), contrast (x0.55-1.7) and gamma (0.5-2); and `grey_prob` of the crops become one grey level: the
    luminance, one RGB channel, or the haematoxylin or the counterstain amount alone. x: N,3,H,W in [0, 1]."""
    n = x.shape[0]

    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(n, *shape, generator=gen)

    od = -torch.log(x.clamp(min=1.0 / 255))
    hed = torch.einsum('nchw,cd->ndhw', od, HED_FROM_RGB)
    mix = torch.eye(3).expand(n, 3, 3) + u(-0.3, 0.3, 3, 3) * (1 - torch.eye(3))
    angle = u(-25, 25) * math.pi / 180
    turn = torch.eye(3).repeat(n, 1, 1)
    turn[:, 0, 0], turn[:, 0, 1], turn[:, 1, 0], turn[:, 1, 1] = angle.cos(), -angle.sin(), angle.sin(), angle.cos()
    mixing = (torch.rand(n, generator=gen) < mix_prob).view(n, 1, 1).float()
    m = mixing * (mix @ turn) + (1 - mixing) * torch.eye(3)
    mixed = torch.einsum('ndhw,nde->nehw', hed, m).clamp(min=0)
    y = torch.exp(-torch.einsum('ndhw,dc->nchw', mixed, RGB_FROM_HED)).clamp(0, 1)
    view = lambda t: t.view(n, 1, 1, 1)  # noqa: E731
    y = y ** view(_log_uniform(n, 0.5, 2.0, gen))
    y = ((y * view(u(0.7, 1.35)) - 0.6) * view(_log_uniform(n, 0.55, 1.7, gen)) + 0.6).clamp(0, 1)
    grey = torch.rand(n, generator=gen) < grey_prob
    which = torch.randint(0, 6, (n,), generator=gen)
    for i in torch.nonzero(grey).flatten().tolist():
        k = int(which[i])
        if k == 0:
            g = 0.299 * y[i, 0] + 0.587 * y[i, 1] + 0.114 * y[i, 2]
        elif k < 4:
            g = y[i, k - 1]
        else:  # one stain's amount alone, as the grey level a pale slide of that stain would give
            stain_od = torch.einsum('chw,c->hw', -torch.log(y[i].clamp(min=1.0 / 255)), HED_FROM_RGB[:, k - 4])
            g = torch.exp(-stain_od.clamp(min=0) * 1.5).clamp(0, 1)
        y[i] = g.expand(3, -1, -1)
    return y
