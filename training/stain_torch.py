"""stain.py's maths on torch tensors, for whole batches: CIE Lab, the tissue rule, Reinhard statistics and mapping.
Kept beside stain.py (numpy, one image at a time) and checked against it in test/training/stain-parity.test.ts, so
that training normalises its crops as the server normalises a slide (shared/src/stain-normalization.ts).
"""
import torch

import stain

_RGB_TO_XYZ = torch.tensor(stain.RGB_TO_XYZ, dtype=torch.float32)
_XYZ_TO_RGB = torch.tensor(stain.XYZ_TO_RGB, dtype=torch.float32)
_WHITE = torch.tensor(stain.WHITE, dtype=torch.float32)


def rgb_to_lab(rgb255):
    """(..., 3) RGB in 0..255 -> (..., 3) CIE Lab (D65)."""
    c = rgb255 / 255
    linear = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T.to(linear.dtype) / _WHITE.to(linear.dtype)
    f = torch.where(xyz > stain.EPSILON, xyz.clamp(min=1e-12) ** (1 / 3), xyz * stain.KAPPA_INV + 4 / 29)
    return torch.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], dim=-1)


def lab_to_rgb(lab):
    """(..., 3) CIE Lab -> (..., 3) RGB rounded and clipped to 0..255 (as the server writes a uint8 tile)."""
    fy = (lab[..., 0] + 16) / 116
    f = torch.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], dim=-1)
    xyz = torch.where(f > 6 / 29, f ** 3, (f - 4 / 29) / stain.KAPPA_INV) * _WHITE.to(f.dtype)
    linear = xyz @ _XYZ_TO_RGB.T.to(xyz.dtype)
    c = torch.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear.clamp(min=0) ** (1 / 2.4) - 0.055)
    return (c * 255).round().clamp(0, 255)


def tissue_mask(rgb255):
    """(..., 3) integer-valued RGB -> (...) bool, the rule of shared/src/tissue-mask.ts."""
    mean = rgb255.sum(dim=-1) / 3
    chroma = rgb255.max(dim=-1).values - rgb255.min(dim=-1).values
    return (mean >= stain.BLACK_BELOW) & (mean < stain.GLASS_FROM) & ((mean < stain.DARK_BELOW) | (chroma >= stain.MIN_CHROMA))


def statistics(pixels255):
    """(K, 3) integer-valued RGB -> (mean (3,), std (3,)) of Lab over the tissue, or None with too little tissue."""
    mask = tissue_mask(pixels255)
    if int(mask.sum()) < stain.MIN_TISSUE_PIXELS:
        return None
    lab = rgb_to_lab(pixels255[mask].double()).float()
    return lab.mean(dim=0), lab.std(dim=0, unbiased=False)


def reinhard(images255, source, reference):
    """N,3,H,W integer-valued RGB whose tissue has `source` (mean, std) Lab statistics, each (3,) or one row per
    image (N, 3) -> mapped onto `reference` (mean, std)."""
    s_mean, s_std = (t.reshape(-1, 1, 1, 3) for t in source)
    r_mean, r_std = (t.reshape(1, 1, 1, 3) for t in reference)
    gain = torch.where(s_std > 1e-6, r_std / s_std.clamp(min=1e-6), torch.ones_like(s_std))
    # float64 as the server's JavaScript numbers, so a pixel rounds to the same level.
    lab = rgb_to_lab(images255.permute(0, 2, 3, 1).double())
    mapped = (lab - s_mean.double()) * gain.double() + r_mean.double()
    return lab_to_rgb(mapped).permute(0, 3, 1, 2).to(images255.dtype)
