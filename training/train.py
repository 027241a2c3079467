"""Train the glomerulus U-Net on the HuBMAP VU train tiles and export it as models/glomseg-unet.onnx + card.

Usage: npm run train -- --data ../shared/data/hubmap-vu --out models --epochs 20
       npm run train -- --smoke --out /tmp/glomseg-smoke      (a few steps on two tiles, for CI)
       npm run train -- --arch mobilenet-unet ... --state training/state/mobilenet-unet.state.pt [--resume]
Only split=train tiles are read; validation is carved from them (whole grid rows of slide A + a few slide-B
tiles). The eval-region tiles are never loaded; --other-labs images are validated on, never trained on.
The state (--state) is replaced atomically after every epoch, every --save-every-min minutes and on SIGTERM/SIGINT
(then the run stops without exporting); --resume continues it step for step on any machine, --export-only writes
the ONNX model and card of its best checkpoint.
"""
import argparse
import copy
import datetime
import functools
import json
import math
import os
import random
import signal
import socket
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from augment import BatchSampler, StainSamples  # noqa: E402
from augment import domain_views  # noqa: E402
from dataset import (RESAMPLERS, choose_validation, downsample_image, instance_gaps, load_other_labs, load_tiles,  # noqa: E402
                     min_glomerulus_area, pyramid_look, read_splits)
from export import export_onnx, write_card  # noqa: E402
from model import ARCHITECTURES, count_params  # noqa: E402
from stain import reference as stain_reference  # noqa: E402
from stain_torch import reinhard, statistics  # noqa: E402
from warm_start import init_estimates_scale  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The card's minArea as a share of the smallest whole training glomerulus: the server judges it on glomeruli joined
# across tiles, so it needs no slack for pieces; the whole of it was chosen through the product on the validation
# tiles for v7 (3/4 for v5; training/README.md, Choices).
MIN_AREA_SHARE = 1.0
THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(15)]  # 0.20 .. 0.90


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=os.path.join(REPO, '..', 'shared', 'data', 'hubmap-vu'))
    p.add_argument('--out', default=os.path.join(REPO, 'models'))
    p.add_argument('--epochs', type=int, default=20, help='epoch limit (the time budget may end training sooner)')
    p.add_argument('--time-budget-min', type=float, default=0.0,
                   help='wall-clock minutes for the training loop; the LR schedule follows elapsed time, so a '
                        'loaded machine trains fewer steps instead of running over (0 = schedule by steps)')
    p.add_argument('--steps-per-epoch', type=int, default=25)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--crop', type=int, default=256)
    p.add_argument('--downsample', type=int, default=4)
    p.add_argument('--arch', choices=sorted(ARCHITECTURES), default='unet',
                   help='unet: the small U-Net from scratch; mobilenet-unet: a U-Net on the ImageNet MobileNetV2 '
                        'encoder (weights from nsfwjs in node_modules, BatchNorm recalibrated on kidney crops; '
                        'input RGB in [0, 1], so the card\'s mean is 0 and std 1)')
    p.add_argument('--freeze-until', default='',
                   help='mobilenet-unet: keep the encoder\'s ImageNet weights before this Keras layer fixed (e.g. '
                        'block_3_expand: the stride-2 and stride-4 layers; their backward pass is then skipped)')
    p.add_argument('--domain-views', action='store_true',
                   help='after normalisation, augment.domain_views: stain mixing/rotation in optical density, strong '
                        'brightness/contrast/gamma, 20 %% grey-level and single-channel crops')
    p.add_argument('--other-labs', default='',
                   help='an other-labs/<set> folder validated on (mean image Dice) and, with --other-labs-weight, '
                        'part of the checkpoint choice; never trained on')
    p.add_argument('--other-labs-weight', type=float, default=0.5,
                   help='share of the other-lab mean image Dice in the checkpoint choice (the rest: in-domain)')
    p.add_argument('--warmup-steps', type=int, default=0, help='LR warm-up steps (0 = a tenth of the schedule)')
    p.add_argument('--save-every-min', type=float, default=5.0, help='minutes between state saves within an epoch')
    p.add_argument('--max-steps-this-run', type=int, default=0,
                   help='stop this sitting after so many steps (state saved, nothing exported; 0 = no limit)')
    p.add_argument('--export-only', action='store_true', help='with --resume: export the state\'s best checkpoint')
    p.add_argument('--log', default='', help='the run\'s JSON log (steps, wall time, validation curve); default: '
                                             'the state path with .json for .pt')
    p.add_argument('--base', type=int, default=16)
    p.add_argument('--max-width', type=int, default=128)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--weight-decay', type=float, default=1e-4)
    p.add_argument('--ema', type=float, default=0.0,
                   help='decay of an exponential moving average of the weights to validate and export instead of '
                        'the raw weights (e.g. 0.995; 0 = off). Off by default: see training/README.md')
    p.add_argument('--resamplers', default=','.join(RESAMPLERS),
                   help='kernels the training tiles are downsampled with, one picked per crop (box,lanczos,bicubic)')
    p.add_argument('--jpeg-prob', type=float, default=0.5,
                   help='share of crops re-coded as JPEG (quality 70-95, 4:2:0), as pyramid levels are stored')
    p.add_argument('--augment', choices=('mild', 'strong'), default='mild',
                   help='colour augmentation: mild (HED +-8 %%, hue +-0.04) or strong (augment.sample_strong_colour, '
                        'blur, noise, JPEG down to q40); see training/README.md')
    p.add_argument('--scale-range', default='0.8,1.25', help='scale jitter, lowest,highest zoom (log-uniform)')
    p.add_argument('--stain-normalization', choices=('off', 'reinhard'), default='off',
                   help='map every crop (and validation tile) with Reinhard onto the train tiles\' Lab statistics, '
                        'from its slide\'s statistics, as the server does; the card then names the method')
    p.add_argument('--stress-val', action='store_true',
                   help='choose the checkpoint on the plain validation looks and, as much, on six stress '
                        'transformations of them (stress_validation_tiles.py: paler, darker, bluer, pinker, '
                        'desaturated, other stain matrix)')
    p.add_argument('--gap-weight', type=float, default=0.0,
                   help='extra BCE weight on the background gaps between neighbouring glomeruli (dataset.'
                        'instance_gaps), so touching glomeruli come out apart (the U-Net paper\'s border weight; '
                        '0 = off)')
    p.add_argument('--gap-reach', type=int, default=4, help='model px around each glomerulus that count for gaps')
    p.add_argument('--init-onnx', default='', help='start from an exported model\'s weights (warm_start.py)')
    p.add_argument('--state', default=os.path.join(REPO, 'training', 'runs', 'state.pt'),
                   help='resumable training state, written after every epoch')
    p.add_argument('--resume', action='store_true', help='continue from --state (same arguments otherwise)')
    p.add_argument('--seed', type=int, default=1234)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--val-rows-a', default='10,11', help='grid rows of slide A held out for validation')
    p.add_argument('--val-b', type=int, default=6, help='number of slide-B tiles (highest ids) held out')
    p.add_argument('--tile-size', type=int, default=256)
    p.add_argument('--margin', type=int, default=64, help='context px per side; see margin_check.py')
    p.add_argument('--checkpoint', default=os.path.join(REPO, 'training', 'runs', 'glomseg-unet.pt'))
    p.add_argument('--parity-fixture', default=None,
                   help='where to write the PyTorch/ONNX parity fixture ("" to skip; default test/fixtures/parity '
                        'for --arch unet, the shipped architecture, else none)')
    p.add_argument('--smoke', action='store_true', help='a few steps on two tiles; for CI')
    return p.parse_args(argv)


class WeightAverage:
    """Exponential moving average of a model's weights (BatchNorm statistics included), kept in a copy."""

    def __init__(self, model, decay):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        for avg, cur in zip(self.model.state_dict().values(), model.state_dict().values()):
            if avg.dtype.is_floating_point:
                avg.mul_(self.decay).add_(cur.detach(), alpha=1 - self.decay)
            else:
                avg.copy_(cur)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def images_tensor(images):
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()  # uint8 N,3,H,W


def masks_tensor(masks):
    return torch.from_numpy(np.stack(masks))[:, None].contiguous()  # float N,1,H,W


def normalise(x01, mean, std):
    return (x01 - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def loss_fn(logits, target, gap_weight=0.0):
    """BCE (soft target) + soft Dice. `target` may carry the gap map as a second channel: BCE there weighs
    1 + gap_weight."""
    weight = 1 + gap_weight * target[:, 1:2] if target.shape[1] > 1 else None
    target = target[:, :1]
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=weight)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum()
    dice = (2 * inter + 1) / (prob.sum() + target.sum() + 1)
    return bce + (1 - dice)


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


STRESS_LOOKS = ('paler', 'darker', 'bluer', 'pinker', 'desaturated', 'other-stain-matrix')


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


def freeze_encoder(model, until):
    """Fix the weights of the encoder's layers before the Keras layer `until` (their BatchNorm statistics still
    follow the batches); returns their names."""
    names = list(model.encoder.layers)
    assert until in names, f'--freeze-until {until}: not an encoder layer'
    frozen = names[:names.index(until)]
    for name in frozen:
        for q in model.encoder.layers[name].parameters():
            q.requires_grad_(False)
    return frozen


def main(argv=None):
    args = parse_args(argv)
    architecture = ARCHITECTURES[args.arch]
    if args.parity_fixture is None:
        args.parity_fixture = os.path.join(REPO, 'test', 'fixtures', 'parity') if args.arch == 'unet' else ''
    log_path = args.log
    t_start = time.time()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # tiny activations late in training otherwise slow CPU steps about 2x
    seed_everything(args.seed)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

    rows = read_splits(args.data)
    fit_ids, val_ids = choose_validation(rows, {int(r) for r in args.val_rows_a.split(',') if r}, args.val_b)
    if args.smoke:
        fit_ids, val_ids = fit_ids[:1], val_ids[:1]
        args.epochs, args.steps_per_epoch, args.batch, args.crop = min(args.epochs, 2), 2, 2, 128
        args.checkpoint = os.path.join(args.out, 'smoke.pt')  # never clobber the real checkpoint or state
        args.state = os.path.join(args.out, 'smoke-state.pt')
        log_path = ''
    log_path = log_path or os.path.splitext(args.state)[0] + '.json'
    train_only = {r['tile_id'] for r in rows if r['split'] == 'train'}
    assert set(fit_ids) | set(val_ids) <= train_only, 'only split=train tiles may be used'
    assert not set(fit_ids) & set(val_ids)
    print(f'device {device}; fit {len(fit_ids)} tiles, validation {len(val_ids)} tiles: {",".join(val_ids)}', flush=True)

    resamplers = [r for r in args.resamplers.split(',') if r]
    fit_images, fit_masks = load_tiles(args.data, fit_ids, args.downsample,
                                       [functools.partial(downsample_image, resample=r) for r in resamplers])
    fit_variants = [images_tensor(images) for images in fit_images]
    fit_msk = masks_tensor(fit_masks)
    if args.gap_weight > 0:
        gaps = masks_tensor(instance_gaps(args.data, fit_ids, args.downsample, args.gap_reach))
        fit_msk = torch.cat([fit_msk, gaps], dim=1)  # the sampler crops and warps both channels alike
        print(f'gap weight {args.gap_weight}: {int(gaps.sum())} gap pixels in {int((gaps.sum(dim=(1, 2, 3)) > 0).sum())} '
              f'fit tiles', flush=True)
    # Validation reads each tile twice: box-averaged (like the JPEG tiles) and as from a sharp JPEG pyramid level
    # (like a libtiff-made slide such as the eval region); checkpoints are picked on the mean of the two.
    (val_box, val_look), val_masks = load_tiles(args.data, val_ids, args.downsample, (downsample_image, pyramid_look))
    val_img, val_pyr, val_msk = images_tensor(val_box), images_tensor(val_look), masks_tensor(val_masks)
    # The dataset's own colour statistics (fit tiles as the last kernel listed made them: bicubic by default),
    # rounded as they will appear in the card.
    fit_img = fit_variants[-1]
    if architecture.unit_input:  # the encoder's own input: RGB in [0, 1]
        mean, std = torch.zeros(3), torch.ones(3)
    else:
        px = fit_img.float().div(255.0)
        mean = torch.tensor([round(float(v), 4) for v in px.mean(dim=(0, 2, 3))])
        std = torch.tensor([round(float(v), 4) for v in px.std(dim=(0, 2, 3))])
        del px
    print(f'tiles at 1/{args.downsample}: {tuple(fit_img.shape[2:])}; mean {mean.tolist()} std {std.tolist()}; '
          f'loaded in {time.time() - t_start:.1f}s', flush=True)
    val_looks = {'box': val_img, 'pyramid': val_pyr}
    if args.stress_val:
        val_looks.update(stress_looks([img for img in val_box]))
    stain_card, stain_samples = stain_reference(args.data), None
    if args.stain_normalization != 'off':
        stain_card['method'] = args.stain_normalization
        reference = tuple(torch.tensor(stain_card['reference'][k]) for k in ('mean', 'std'))
        slide_of = {r['tile_id']: r['slide'] for r in rows}
        stain_samples = StainSamples(low_resolution_pixels(fit_variants[0]), [slide_of[t] for t in fit_ids],
                                     reference, args.seed)
        val_looks = {name: normalise_each(look, reference) for name, look in val_looks.items()}
    other = None
    if args.other_labs:  # validation and model choice only: never reaches the sampler
        other_ids, other_images, other_masks = load_other_labs(args.other_labs, 0.5 * args.downsample,
                                                               limit=2 if args.smoke else 0)
        other_img = [images_tensor([im]) for im in other_images]
        if args.stain_normalization != 'off':
            other_img = [normalise_each(im, reference) for im in other_img]
        other = (other_img, [masks_tensor([m]) for m in other_masks])
        print(f'other-lab validation: {len(other_ids)} images from {args.other_labs}', flush=True)

    model = architecture.build(args).to(device).to(memory_format=torch.channels_last)
    print(f'{args.arch}: {architecture.describe(model)}: {count_params(model)} parameters', flush=True)
    if args.freeze_until:
        frozen = freeze_encoder(model, args.freeze_until)
        print(f'encoder layers kept fixed: {frozen[0]} .. {frozen[-1]} ({len(frozen)} layers)', flush=True)
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=args.lr,
                            weight_decay=args.weight_decay)
    total_steps = args.epochs * args.steps_per_epoch
    budget_s = args.time_budget_min * 60.0
    t_loop = time.time()
    step = 0

    def progress():
        # Fraction of the schedule done: by time when budgeted (the machine is shared), else by steps.
        by_steps = step / total_steps
        return max(by_steps, (time.time() - t_loop) / budget_s) if budget_s > 0 else by_steps

    def lr_at(frac):
        warmup = args.warmup_steps / total_steps if args.warmup_steps else 0.1
        if frac < warmup:
            return args.lr * (0.04 + 0.96 * frac / warmup)
        return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - warmup) / (1 - warmup))))
    scale_range = tuple(float(v) for v in args.scale_range.split(','))
    sampler = BatchSampler(fit_variants, fit_msk, args.crop, args.batch, args.seed, args.jpeg_prob, args.augment,
                           scale_range, stain_samples)
    if args.init_onnx and not args.resume:
        from warm_start import load_onnx_weights
        calibration = [normalise(sampler.next()[0], mean, std) for _ in range(8)]
        drift = load_onnx_weights(model, args.init_onnx, calibration)
        print(f'weights from {args.init_onnx} (eval-mode logits within {drift:.2e} of the file\'s)', flush=True)
    if args.arch == 'mobilenet-unet' and not args.resume:
        from mobilenet_v2_from_nsfwjs import load_encoder, recalibrate_batchnorm
        _, report = load_encoder(model.encoder)
        calibration = [normalise(sampler.next()[0], mean, std).to(device) for _ in range(2 if args.smoke else 8)]
        recalibrate_batchnorm(model.encoder, calibration)
        print(f'encoder from {report["source"]} (ImageNet through {report["imagenetThrough"]}; '
              f'{report["zeroVariances"]} zero BatchNorm variances in the file), BatchNorm recalibrated on '
              f'{len(calibration)} batches of kidney crops', flush=True)
    # The averaged weights make the per-epoch validation less noisy (whether they generalise better: README).
    ema = WeightAverage(model, args.ema) if args.ema > 0 else None
    mean_d, std_d = mean.to(device), std.to(device)

    best = {'dice': -1.0}
    history = []
    sittings = []
    epoch_losses = []
    if args.resume:
        saved = torch.load(args.state, map_location='cpu')
        model.load_state_dict(saved['model'])
        opt.load_state_dict(saved['optimizer'])
        if ema:
            ema.model.load_state_dict(saved['ema'])
        sampler.gen.set_state(saved['sampler'])
        torch.set_rng_state(saved['torch'])
        step, best, history = saved['step'], saved['best'], saved['history']
        epoch_losses, sittings = saved.get('epochLosses', []), saved.get('sittings', [])
        t_loop = time.time() - saved['loopSeconds']  # the schedule goes on where it stopped
        print(f'resumed from {args.state}: epoch {saved["epoch"]}, step {step}, {saved["loopSeconds"]:.0f}s of the '
              f'budget spent, best {best["dice"]:.4f}', flush=True)
    sitting = {'startStep': step, 'host': socket.gethostname(), 'device': str(device), 'threads': args.threads,
               'started': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}
    t_sitting = time.time()

    def save_state():
        """Everything the loop needs to go on, replaced atomically (temp file + rename), and the JSON log beside it."""
        sitting.update(endStep=step, seconds=round(time.time() - t_sitting, 1))
        os.makedirs(os.path.dirname(os.path.abspath(args.state)), exist_ok=True)
        torch.save({'arch': args.arch, 'model': model.state_dict(), 'optimizer': opt.state_dict(),
                    'ema': ema.model.state_dict() if ema else None, 'sampler': sampler.gen.get_state(),
                    'torch': torch.get_rng_state(), 'step': step, 'epoch': step // args.steps_per_epoch,
                    'epochLosses': epoch_losses, 'best': best, 'history': history, 'sittings': sittings + [sitting],
                    'loopSeconds': time.time() - t_loop}, args.state + '.tmp')
        os.replace(args.state + '.tmp', args.state)
        if log_path:
            log = {'arch': args.arch, 'command': 'npm run train -- ' + ' '.join(argv if argv is not None else sys.argv[1:]),
                   'state': os.path.relpath(args.state, REPO), 'stateBytes': os.path.getsize(args.state),
                   'step': step, 'totalSteps': total_steps, 'trainingSeconds': round(time.time() - t_loop, 1),
                   'sittings': sittings + [sitting],
                   'best': {k: v for k, v in best.items() if k not in ('state', 'scores')}, 'history': history}
            with open(log_path + '.tmp', 'w') as f:
                json.dump(log, f, indent=1)
                f.write('\n')
            os.replace(log_path + '.tmp', log_path)

    stop = {}

    def on_signal(signum, _frame):
        stop['signal'] = signum  # the loop saves the state and returns at the next step boundary

    previous_handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    plain = ('box', 'pyramid')
    t_saved = t_epoch = time.time()
    epoch_step0 = step
    while not args.export_only:
        if step % args.steps_per_epoch == 0 and (step >= total_steps or progress() >= 1.0):
            break
        if stop or (args.max_steps_this_run and step - sitting['startStep'] >= args.max_steps_this_run):
            save_state()
            why = f'signal {stop["signal"]}' if stop else f'--max-steps-this-run {args.max_steps_this_run}'
            print(f'stopped at step {step} ({why}): state saved to {args.state}', flush=True)
            for sig, handler in previous_handlers.items():
                signal.signal(sig, handler)
            return None
        model.train()
        img, msk = sampler.next()
        if args.domain_views:
            img = domain_views(img, sampler.gen)
        x = normalise(img.to(device), mean_d, std_d).contiguous(memory_format=torch.channels_last)
        logits = model(x)
        loss = loss_fn(logits, msk.to(device).contiguous(memory_format=torch.channels_last), args.gap_weight)
        for group in opt.param_groups:
            group['lr'] = lr_at(progress())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema:
            ema.update(model)
        step += 1
        epoch_losses.append(loss.item())
        if step % args.steps_per_epoch:
            if time.time() - t_saved > args.save_every_min * 60:
                save_state()
                t_saved = time.time()
            continue
        step_s = (time.time() - t_epoch) / max(1, step - epoch_step0)
        epoch = step // args.steps_per_epoch
        scored = ema.model if ema else model
        per_look = {name: dice_scores(predict_full(scored, look, mean, std, device), val_msk)
                    for name, look in val_looks.items()}
        box, pyr = per_look['box'], per_look['pyramid']
        scores = mean_scores(box, pyr)
        stressed = [name for name in per_look if name not in plain]
        # With stress looks, the choice weighs the plain looks and the stress looks (their mean and their worst)
        # alike, so that no transformation is left far behind the plain figure.
        choice = {t: (scores[t]['global'] if not stressed else
                      0.5 * scores[t]['global'] + 0.25 * np.mean([per_look[n][t]['global'] for n in stressed])
                      + 0.25 * min(per_look[n][t]['global'] for n in stressed)) for t in scores}
        other_scores = None
        if other:  # mean image Dice on the other lab's images, each normalised from its own statistics
            per_image = [dice_scores(predict_full(scored, im, mean, std, device), m) for im, m in zip(*other)]
            other_scores = {t: {'meanImage': float(np.mean([r[t]['meanTile'] for r in per_image])),
                                'global': None} for t in THRESHOLDS}
            w = args.other_labs_weight
            choice = {t: (1 - w) * choice[t] + w * other_scores[t]['meanImage'] for t in choice}
        t_best = max(choice, key=choice.get)
        d05 = scores[0.5]['global']
        history.append({'epoch': epoch, 'step': step, 'seconds': round(time.time() - t_loop, 1),
                        'loss': float(np.mean(epoch_losses)), 'valDice@0.5': d05,
                        'valDiceBest': scores[t_best]['global'], 'thresholdBest': t_best,
                        'valDiceBox': box[t_best]['global'], 'valDicePyramid': pyr[t_best]['global'],
                        **({'otherLabsMeanImageDice': round(other_scores[t_best]['meanImage'], 4),
                            'otherLabsMeanImageDice@0.5': round(other_scores[0.5]['meanImage'], 4)}
                           if other_scores else {}),
                        **({'choice': choice[t_best]} if stressed or other_scores else {}),
                        **({'stress': {n: round(per_look[n][t_best]['global'], 4) for n in stressed}} if stressed else {})})
        worst = f' | stress worst {min(per_look[n][t_best]["global"] for n in stressed):.4f}' if stressed else ''
        worst += f' | other labs {other_scores[t_best]["meanImage"]:.4f}' if other_scores else ''
        print(f'epoch {epoch:3d}/{args.epochs} loss {np.mean(epoch_losses):.4f} step {step_s:.2f}s | val Dice@0.5 {d05:.4f} '
              f'best {scores[t_best]["global"]:.4f} @ {t_best} (box {box[t_best]["global"]:.4f}, pyramid '
              f'{pyr[t_best]["global"]:.4f}){worst} | elapsed {time.time() - t_start:.0f}s', flush=True)
        if choice[t_best] > best['dice']:
            best = {'dice': choice[t_best], 'epoch': epoch, 'threshold': t_best, 'scores': scores,
                    'box': box[t_best], 'pyramid': pyr[t_best],
                    'stress': {n: per_look[n][t_best]['global'] for n in stressed},
                    **({'otherLabs': other_scores[t_best]['meanImage']} if other_scores else {}),
                    'state': {k: v.detach().cpu().clone() for k, v in scored.state_dict().items()}}
        epoch_losses = []
        save_state()
        t_saved = t_epoch = time.time()
        epoch_step0 = step
    for sig, handler in previous_handlers.items():
        signal.signal(sig, handler)
    epochs_done = step // args.steps_per_epoch
    if best['dice'] < 0:
        raise SystemExit(f'{args.state}: no epoch validated yet, nothing to export')

    model.load_state_dict(best['state'])
    model = model.to('cpu').to(memory_format=torch.contiguous_format).eval()
    train_seconds = time.time() - t_start
    chosen = best['scores'][best['threshold']]
    print(f'best epoch {best["epoch"]}: validation Dice {chosen["global"]:.4f} (mean per tile {chosen["meanTile"]:.4f}) '
          f'at threshold {best["threshold"]}', flush=True)

    os.makedirs(args.out, exist_ok=True)
    onnx_name = 'glomseg-unet.onnx'
    size = export_onnx(model, os.path.join(args.out, onnx_name))
    min_area = min_glomerulus_area(args.data, fit_ids)
    command = 'npm run train -- ' + ' '.join(argv if argv is not None else sys.argv[1:])
    provenance = {
        'data': 'shared/data/hubmap-vu (HuBMAP VU PAS kidney tiles, github.com/cns-iu/ccf-research-ftu)',
        'split': f'split=train only; validation = slide A grid rows {args.val_rows_a} + last {args.val_b} slide-B tiles',
        'trainTiles': fit_ids,
        'validationTiles': val_ids,
        'seed': args.seed,
        'epochs': epochs_done,
        'steps': step,
        'timeBudgetMinutes': args.time_budget_min,
        'stepsPerEpoch': args.steps_per_epoch,
        'batch': args.batch,
        'crop': args.crop,
        'weightAverageDecay': args.ema,
        'resamplers': resamplers,
        'jpegProb': args.jpeg_prob,
        'augment': args.augment,
        'gapWeight': args.gap_weight,
        'gapReach': args.gap_reach if args.gap_weight > 0 else None,
        'scaleRange': list(scale_range),
        'stainNormalization': args.stain_normalization,
        'checkpointChoice': 'plain and stress validation looks' if args.stress_val else 'plain validation looks',
        'initialWeights': os.path.relpath(args.init_onnx, REPO) if args.init_onnx else None,
        'architecture': architecture.describe(model),
        **({'encoder': 'MobileNetV2 alpha 1.0 (ImageNet) from the npm package nsfwjs@4.4.0, dist/models/mobilenet_v2 '
                       '(MIT licence), ported by training/mobilenet_v2_from_nsfwjs.py, BatchNorm recalibrated on the '
                       'fit tiles', 'encoderFixedUntil': args.freeze_until or None}
           if args.arch == 'mobilenet-unet' else {}),
        'domainViews': args.domain_views,
        'otherLabsValidation': (f'{os.path.relpath(args.other_labs, os.path.join(REPO, ".."))} (validation and '
                                f'checkpoint choice only, weight {args.other_labs_weight})') if args.other_labs else None,
        'parameters': count_params(model),
        'bestEpoch': best['epoch'],
        'torch': torch.__version__,
        'device': str(device),
        'command': command,
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'trainingWallSeconds': round(train_seconds, 1),
        'trainingLoopSeconds': round(time.time() - t_loop, 1),  # over every sitting of a resumed run
    }
    metrics = {
        'validation': {
            'dice': round(chosen['global'], 4),
            'meanTileDice': round(chosen['meanTile'], 4),
            'threshold': best['threshold'],
            'tiles': len(val_ids),
            'scale': f'model pixels at 1/{args.downsample}, truth = area fraction >= 0.5',
            'inputs': 'mean of box-averaged tiles and the same tiles as a Lanczos JPEG (q90) pyramid level',
            'diceBox': round(best['box']['global'], 4),
            'dicePyramid': round(best['pyramid']['global'], 4),
            'diceByThreshold': {str(t): round(s['global'], 4) for t, s in best['scores'].items()},
            **({'stressDice': {n: round(d, 4) for n, d in best['stress'].items()}} if best['stress'] else {}),
            **({'otherLabsMeanImageDice': round(best['otherLabs'], 4)} if 'otherLabs' in best else {}),
        },
        'history': history,
    }
    write_card(
        os.path.join(args.out, 'glomseg-unet.json'),
        onnx_file=onnx_name, mean=mean.tolist(), std=std.tolist(), mpp=0.5 * args.downsample,
        downsample=args.downsample, tile_size=args.tile_size, margin=args.margin, threshold=best['threshold'],
        min_area=int(round(min_area * MIN_AREA_SHARE)) if min_area else 0, provenance=provenance, metrics=metrics, stain=stain_card,
        # The server's image-based scale estimate tries scales 2x apart; a model jittered over that range finds
        # glomeruli at neighbouring candidates too, so its card turns the estimate off (model-card.ts estimatesScale).
        # Weights started from such a model keep that tolerance whatever this run's jitter (v7 from v5 picked 2 um/px
        # on a 0.5 um/px validation tile), so they inherit its card's choice.
        estimates_scale=scale_range[0] > 0.6 and scale_range[1] < 1.6 and init_estimates_scale(args.init_onnx),
        description=(f'U-Net on an ImageNet MobileNetV2 encoder for glomerulus segmentation in human kidney at about '
                     f'{0.5 * args.downsample:g} um/px, trained on the HuBMAP VU PAS train tiles'
                     if args.arch == 'mobilenet-unet' else
                     'Small U-Net for glomerulus segmentation in PAS-stained human kidney at about 2 um/px '
                     '(level-0 0.5 um/px read at 1/4), trained on the HuBMAP VU train tiles.'),
    )
    try:
        from export_fp16 import add_fp16_variant  # needs the onnx package (Debian: python3-onnx)
        print(f"fp16 variant for WebGPU: {add_fp16_variant(os.path.join(args.out, 'glomseg-unet.json'))}")
    except ImportError:
        print('onnx package missing (apt-get install python3-onnx): no fp16 variant written')
    os.makedirs(os.path.dirname(args.checkpoint), exist_ok=True)
    torch.save({'arch': args.arch, 'state': best['state'], 'base': args.base, 'maxWidth': args.max_width, 'mean': mean.tolist(),
                'std': std.tolist(), 'downsample': args.downsample}, args.checkpoint)
    print(f'wrote {os.path.join(args.out, onnx_name)} ({size / 1e6:.2f} MB) and glomseg-unet.json; '
          f'checkpoint {args.checkpoint}', flush=True)
    if args.parity_fixture and not args.smoke:
        from export_parity_fixture import write_fixture
        write_fixture(model, mean.tolist(), std.tolist(), args.data, args.parity_fixture, args.downsample,
                      onnx_path=os.path.join(args.out, onnx_name))
    print(f'validation Dice {chosen["global"]:.4f} threshold {best["threshold"]} wall {train_seconds:.0f}s', flush=True)
    return best


if __name__ == '__main__':
    main()
