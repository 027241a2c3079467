"""Validation for train.py: whole-tile probabilities, Dice per threshold, and the looks a validation tile is seen in
(box-averaged, a JPEG pyramid level, stress colours, Reinhard-normalised)."""
import numpy as np
import torch
import torch.nn.functional as F

from stain_torch import reinhard, statistics

THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(15)]  # 0.20 .. 0.90
STRESS_LOOKS = ('paler', 'darker', 'bluer', 'pinker', 'desaturated', 'other-stain-matrix')


def images_tensor(images):
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()  # uint8 N,3,H,W


def masks_tensor(masks):
    return torch.from_numpy(np.stack(masks))[:, None].contiguous()  # float N,1,H,W


def normalise(x01, mean, std):
    return (x01 - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


@torch.no_grad()
def predict_full(model, images_u8, mean, std, device, multiple=16):
    """Probabilities for whole tiles, reflect-padded up to a multiple of 16 and cropped back."""
    model.eval()
    out = []
    for i in range(images_u8.shape[0]):
        x = images_u8[i:i + 1].float().div(255.0)
        h, w = x.shape[2:]
        ph, pw = (-h) % multiple, (-w) % multiple
        x = F.pad(x, (0, pw, 0, ph), mode='reflect')
        x = normalise(x, mean, std).to(device).contiguous(memory_format=torch.channels_last)
        out.append(torch.sigmoid(model(x))[:, :, :h, :w].float().cpu())
    return torch.cat(out)


def mean_scores(a, b):
    """Per threshold, the mean of two dice_scores results."""
    return {t: {k: (a[t][k] + b[t][k]) / 2 for k in a[t]} for t in a}


def dice_scores(probs, masks):
    """Global and mean per-tile Dice at each threshold; truth = covered fraction >= 0.5."""
    truth = masks >= 0.5
    res = {}
    for t in THRESHOLDS:
        pred = probs >= t
        inter = (pred & truth).sum(dim=(1, 2, 3)).double()
        sizes = pred.sum(dim=(1, 2, 3)).double() + truth.sum(dim=(1, 2, 3)).double()
        per_tile = torch.where(sizes > 0, 2 * inter / sizes.clamp(min=1), torch.ones_like(sizes))
        res[t] = {'global': float(2 * inter.sum() / sizes.sum().clamp(min=1)), 'meanTile': float(per_tile.mean())}
    return res


def stress_looks(images_u8):
    """The validation tiles (at model scale) under stress_validation_tiles.py's colour transformations."""
    from PIL import Image
    from stress_validation_tiles import SEED, TRANSFORMS
    looks = {}
    for k, name in enumerate(STRESS_LOOKS):
        rng = np.random.default_rng(SEED + k)
        transform = TRANSFORMS[name][0]
        looks[name] = images_tensor([np.asarray(transform(Image.fromarray(img), rng)) for img in images_u8])
    return looks


def low_resolution_pixels(images_u8, shrink=4):
    """uint8 N,3,H,W -> uint8 (N, K, 3): each image box-shrunk, as the slide survey sees a slide."""
    small = F.avg_pool2d(images_u8.float(), shrink).round().to(torch.uint8)
    return small.permute(0, 2, 3, 1).reshape(small.shape[0], -1, 3).contiguous()


def normalise_each(images_u8, reference):
    """Reinhard on each image from its own low-resolution statistics (a validation tile scored as its own slide)."""
    out = []
    for img, px in zip(images_u8, low_resolution_pixels(images_u8)):
        measured = statistics(px.float())
        out.append(img if measured is None else reinhard(img[None].float(), measured, reference)[0].to(torch.uint8))
    return torch.stack(out)


def score_epoch(scored, data, device, other_labs_weight):
    """Dice of the scored weights on every validation look (and the other lab's images), and the checkpoint choice
    per threshold."""
    mean, std = data.mean, data.std
    per_look = {name: dice_scores(predict_full(scored, look, mean, std, device), data.val_msk)
                for name, look in data.val_looks.items()}
    scores = mean_scores(per_look['box'], per_look['pyramid'])
    stressed = [name for name in per_look if name not in ('box', 'pyramid')]
    # With stress looks, the choice weighs the plain looks and the stress looks (their mean and their worst)
    # alike, so that no transformation is left far behind the plain figure.
    choice = {t: (scores[t]['global'] if not stressed else
                  0.5 * scores[t]['global'] + 0.25 * np.mean([per_look[n][t]['global'] for n in stressed])
                  + 0.25 * min(per_look[n][t]['global'] for n in stressed)) for t in scores}
    other_scores = None
    if data.other:  # mean image Dice on the other lab's images, each normalised from its own statistics
        images, masks, held_out = data.other
        per_image = [dice_scores(predict_full(scored, im, mean, std, device), m) for im, m in zip(images, masks)]

        def mean_image(t, held):
            chosen = [r[t]['meanTile'] for r, h in zip(per_image, held_out) if h == held]
            return float(np.mean(chosen)) if chosen else None
        # meanImage: the images the choice may use; heldOut: the cases it never sees, reported beside it.
        other_scores = {t: {'meanImage': mean_image(t, False), 'heldOut': mean_image(t, True), 'global': None}
                        for t in THRESHOLDS}
        w = other_labs_weight
        if other_scores[THRESHOLDS[0]]['meanImage'] is not None:
            choice = {t: (1 - w) * choice[t] + w * other_scores[t]['meanImage'] for t in choice}
    return per_look, scores, stressed, choice, other_scores
