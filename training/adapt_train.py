"""The fine-tuning loop of training/adapt.py: augmented crops of the reviewed regions (pixels outside a region's
reviewed area carry no weight, so they are never taught as "no glomerulus"), stain-normalised as the server
normalises a slide, a weighted BCE + soft Dice loss, AdamW with warm-up and cosine decay over the step or time budget,
whichever runs out first."""
import copy
import math
import time

import torch
import torch.nn.functional as F

from augment import apply_strong_colour, colour_jitter, sample_geometry, sample_strong_colour
from stain_torch import reinhard, statistics


class RegionSampler:
    """Random crops of the regions: scale jitter, 90-degree turns and flips (augment.sample_geometry) and Reinhard
    onto the card's reference from the region's (or its slide's) statistics, as the server normalises a slide
    (`reference` None: no normalisation). `colour` 'mild': each region normalised once, then augment.colour_jitter on
    the normalised crop (cheap); 'strong': augment.sample_strong_colour on the raw crop and on the pixels its
    statistics are measured on, then normalised per crop (what the server would see of a differently stained slide;
    about twice the sampling cost); 'off': normalised once, no colour change.
    `focus`: the share of crops centred on a glomerulus (a reviewed glomerulus pixel drawn at random, each glomerulus
    equally likely, the window shifted by up to a quarter of its size and kept inside the region): with a dozen
    corrections in large regions, most uniform crops hold background only, and small glomeruli are rarely seen whole.
    0 (the default): every crop anywhere in its region, as before."""

    def __init__(self, regions, crop, batch, seed, reference, colour, scale_range, focus=0.0):
        self.crop, self.batch = crop, batch
        self.reference, self.colour, self.scale_range = reference, colour, scale_range
        self.focus = focus
        self.gen = torch.Generator().manual_seed(seed)
        if reference is not None and colour != 'strong':
            regions = [{**r, 'image': self.normalised(r)} for r in regions]
        self.regions = regions
        # Regions are drawn in proportion to their reviewed area, so a large region is not undersampled.
        self.weights = torch.tensor([float(r['weight'].sum()) + 1.0 for r in regions])
        # Focused crops: glomeruli drawn uniformly (not by area, so small ones count as much); their pixels as
        # (region, y, x) rows, one block per glomerulus.
        self.glomeruli = glomerulus_pixels(regions) if focus > 0 else []

    def next(self):
        picks = torch.multinomial(self.weights, self.batch, replacement=True, generator=self.gen).tolist()
        centres = [None] * len(picks)
        for k in range(len(picks) if self.glomeruli else 0):  # no draw at all without focus: the same crops as before
            if torch.rand(1, generator=self.gen).item() < self.focus:
                block = self.glomeruli[int(torch.randint(0, len(self.glomeruli), (1,), generator=self.gen))]
                i, y, x = block[int(torch.randint(0, len(block), (1,), generator=self.gen))].tolist()
                picks[k], centres[k] = i, (x + 0.5, y + 0.5)
        images, targets, weights, stats = [], [], [], []
        for i, centre in zip(picks, centres):
            r = self.regions[i]
            h, w = r['image'].shape[1:]
            theta = sample_geometry(1, self.crop, w, h, self.gen, self.scale_range)
            if centre is not None:
                theta = centred(theta, centre, w, h, self.gen)
            grid = F.affine_grid(theta, (1, 1, self.crop, self.crop), align_corners=False)
            images.append(F.grid_sample(r['image'][None].float() / 255, grid, mode='bilinear',
                                        padding_mode='reflection', align_corners=False))
            # Outside the region (zero padding) the weight is 0: not reviewed, so neither glomerulus nor background.
            both = torch.stack([r['mask'], r['weight']])[None]
            warped = F.grid_sample(both, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
            targets.append(warped[:, :1])
            weights.append((warped[:, 1:] > 0.999).float())
            stats.append(r['pixels'])
        x = torch.cat(images)
        if self.colour == 'strong':
            params = sample_strong_colour(self.batch, self.gen)
            x = apply_strong_colour(x, params)
            if self.reference is not None:
                x = self.normalise(x, stats, params)
        elif self.colour == 'mild':
            x = colour_jitter(x, self.gen)
        return x, torch.cat(targets), torch.cat(weights)

    def normalised(self, r):
        """A region's uint8 image mapped onto the reference from its slide's given or its own measured statistics."""
        given = r['stain']
        measured = ((torch.tensor(given['mean']), torch.tensor(given['std'])) if given is not None
                    else statistics(r['pixels'].float()))
        if measured is None:  # too little tissue to measure: left as it is, as the server leaves it
            return r['image']
        return reinhard(r['image'][None].float(), measured, self.reference)[0].to(torch.uint8)

    def normalise(self, x, pixels, params):
        means, stds = [], []
        for k, px in enumerate(pixels):
            # The same colour change on the pixels the statistics are measured on.
            one = {key: v[k:k + 1] for key, v in params.items()}
            seen = (apply_strong_colour(px.float().div(255).T[None, :, :, None], one) * 255).round()[0, :, :, 0].T
            measured = statistics(seen)
            mean, std = measured if measured is not None else self.reference
            means.append(mean)
            stds.append(std)
        return reinhard((x * 255).round(), (torch.stack(means), torch.stack(stds)), self.reference) / 255


class MixedSampler:
    """Each batch: the lab's crops then the replayed ones (two RegionSamplers, their own generators)."""

    def __init__(self, lab, replay):
        self.lab, self.replay = lab, replay

    def next(self):
        return tuple(torch.cat(pair) for pair in zip(self.lab.next(), self.replay.next()))


def glomerulus_pixels(regions):
    """Each reviewed glomerulus's pixels as a (n, 3) tensor of (region index, y, x): its polygon rasterised
    (coverage >= 0.5) inside its region's reviewed area; a glomerulus with no such pixel is left out."""
    from adapt_data import raster
    blocks = []
    for i, r in enumerate(regions):
        h, w = r['mask'].shape
        for polygon in r['glomeruli']:
            inside = torch.from_numpy(raster([polygon], w, h) >= 0.5) & (r['weight'] > 0.999)
            yx = inside.nonzero()
            if len(yx):
                blocks.append(torch.cat([torch.full((len(yx), 1), i, dtype=yx.dtype), yx], dim=1))
    return blocks


def centred(theta, centre, width, height, gen):
    """`theta` (1, 2, 3; from sample_geometry) moved so that its window is centred near `centre` (x, y in region
    pixels): shifted by up to a quarter of the window each way, kept inside the region where it fits."""
    half = torch.stack([theta[0, 0, :2].abs().sum() * width / 2, theta[0, 1, :2].abs().sum() * height / 2])
    shift = (torch.rand(2, generator=gen) * 2 - 1) * half / 2
    size = torch.tensor([width, height], dtype=torch.float32)
    c = torch.tensor(centre, dtype=torch.float32) + shift - size / 2  # relative to the region's centre
    room = (size / 2 - half).clamp(min=0)
    c = torch.maximum(torch.minimum(c, room), -room)
    theta = theta.clone()
    theta[0, :, 2] = c * 2 / size
    return theta


def weighted_loss(logits, target, weight):
    """BCE (soft target) + soft Dice, both counting only weighted (reviewed) pixels."""
    total = weight.sum().clamp(min=1)
    bce = (F.binary_cross_entropy_with_logits(logits, target, reduction='none') * weight).sum() / total
    prob = torch.sigmoid(logits) * weight
    inter = (prob * target).sum()
    dice = (2 * inter + 1) / (prob.sum() + (target * weight).sum() + 1)
    return bce + (1 - dice)


def lr_factor(frac, warmup=0.05):
    if frac < warmup:
        return (frac + 1e-3) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - warmup) / (1 - warmup))))


def train(model, sampler, mean, std, opts, stop, report):
    """Fine-tunes `model` in place. `opts`: lr, weight_decay, max_steps, max_seconds, bn ('frozen': BatchNorm keeps
    its statistics, as the checkpoint's eval function; 'train': batch statistics), trainable (parameters to update),
    ema (decay of a moving average of the weights that becomes the result; 0: the last weights), l2_parent (weight of
    a pull towards the parent's weights, L2-SP: what a dozen corrections may move the network away from).
    `stop()` is polled every step; `report(step, steps, loss, eta)` is called after each. Returns (steps, seconds,
    mean loss of the last tenth of the steps, stopped)."""
    opt = torch.optim.AdamW(opts['trainable'], lr=opts['lr'], weight_decay=opts['weight_decay'])
    # A few crops a step make the last weights noisy; their average is the steadier model.
    average = copy.deepcopy(model) if opts.get('ema', 0) > 0 else None
    anchor = [q.detach().clone() for q in opts['trainable']] if opts.get('l2_parent', 0) > 0 else None
    mean, std = mean.view(1, 3, 1, 1), std.view(1, 3, 1, 1)
    started, losses, step = time.time(), [], 0
    while step < opts['max_steps']:
        if stop():
            return step, time.time() - started, tail_mean(losses), True
        elapsed = time.time() - started
        frac = max(step / opts['max_steps'], elapsed / opts['max_seconds'])
        if frac >= 1:
            break
        for group in opt.param_groups:
            group['lr'] = opts['lr'] * lr_factor(frac)
        model.train() if opts['bn'] == 'train' else model.eval()
        x, target, weight = sampler.next()
        loss = weighted_loss(model((x - mean) / std), target, weight)
        total = loss
        if anchor is not None:
            total = loss + opts['l2_parent'] * sum(((q - a) ** 2).sum() for q, a in zip(opts['trainable'], anchor))
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        step += 1
        if average is not None:
            update_average(average, model, min(opts['ema'], (1 + step) / (10 + step)))
        losses.append(float(loss))
        elapsed = time.time() - started
        by_steps = elapsed / step * (opts['max_steps'] - step)
        report(step, opts['max_steps'], losses[-1], max(0.0, min(by_steps, opts['max_seconds'] - elapsed)))
    if average is not None:
        model.load_state_dict(average.state_dict())
    model.eval()
    return step, time.time() - started, tail_mean(losses), False


@torch.no_grad()
def update_average(average, model, decay):
    for a, q in zip(average.parameters(), model.parameters()):
        a.mul_(decay).add_(q.detach(), alpha=1 - decay)
    for a, b in zip(average.buffers(), model.buffers()):  # BatchNorm statistics: the model's own
        a.copy_(b)


def tail_mean(losses):
    tail = losses[-max(1, len(losses) // 10):]
    return sum(tail) / len(tail) if tail else None


@torch.no_grad()
def reparametrise(model):
    """Moves each output channel's scale from a convolution into the BatchNorm after it (weight x s, running mean / s),
    so every filter starts at He-initialisation size: the same eval-mode function, but Adam's steps (about `lr` per
    weight whatever its size) no longer swamp the tiny filters that folded BatchNorms leave (the shipped U-Net's
    decoder filters average 0.004). Returns the pairs rescaled."""
    pairs = 0
    for module in model.modules():
        children = list(module.children())
        for conv, bn in zip(children, children[1:]):
            if not (isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d)) or bn.weight is None:
                continue
            fan_in = conv.weight[0].numel()
            rms = conv.weight.flatten(1).pow(2).mean(dim=1).sqrt().clamp(min=1e-12)
            s = rms / math.sqrt(2 / fan_in)
            conv.weight.div_(s.view(-1, 1, 1, 1))
            bn.running_mean.div_(s)
            bn.weight.mul_(s)
            pairs += 1
    return pairs
