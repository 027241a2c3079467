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
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from augment import BatchSampler  # noqa: E402
from dataset import RESAMPLERS, choose_validation, read_splits  # noqa: E402
from model import ARCHITECTURES, count_params  # noqa: E402
from train_data import load_data  # noqa: E402
from train_eval import normalise  # noqa: E402
from train_export import export_run  # noqa: E402
from train_loop import REPO, Training, WeightAverage  # noqa: E402


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
    p.add_argument('--other-labs-held-out', default='',
                   help='comma-separated cases (tiles.csv "case") of --other-labs validated and reported, but kept out '
                        'of the checkpoint choice, so that their figure is not one the choice was made on')
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


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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


def split_tiles(args):
    """Fit and validation tile ids (split=train only); --smoke shrinks the run to two tiles and a few steps."""
    rows = read_splits(args.data)
    fit_ids, val_ids = choose_validation(rows, {int(r) for r in args.val_rows_a.split(',') if r}, args.val_b)
    log_path = args.log
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
    return rows, fit_ids, val_ids, log_path


def build_model(args, architecture, device):
    model = architecture.build(args).to(device).to(memory_format=torch.channels_last)
    print(f'{args.arch}: {architecture.describe(model)}: {count_params(model)} parameters', flush=True)
    if args.freeze_until:
        frozen = freeze_encoder(model, args.freeze_until)
        print(f'encoder layers kept fixed: {frozen[0]} .. {frozen[-1]} ({len(frozen)} layers)', flush=True)
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=args.lr,
                            weight_decay=args.weight_decay)
    return model, opt


def initial_weights(args, model, sampler, mean, std, device):
    """A new run's start: an exported model's weights (--init-onnx) or the ImageNet encoder, BatchNorm recalibrated."""
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


def main(argv=None):
    args = parse_args(argv)
    architecture = ARCHITECTURES[args.arch]
    if args.parity_fixture is None:
        args.parity_fixture = os.path.join(REPO, 'test', 'fixtures', 'parity') if args.arch == 'unet' else ''
    t_start = time.time()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # tiny activations late in training otherwise slow CPU steps about 2x
    seed_everything(args.seed)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    rows, fit_ids, val_ids, log_path = split_tiles(args)
    print(f'device {device}; fit {len(fit_ids)} tiles, validation {len(val_ids)} tiles: {",".join(val_ids)}', flush=True)
    data = load_data(args, architecture, rows, fit_ids, val_ids, t_start)

    model, opt = build_model(args, architecture, device)
    t_loop = time.time()
    scale_range = tuple(float(v) for v in args.scale_range.split(','))
    sampler = BatchSampler(data.fit_variants, data.fit_msk, args.crop, args.batch, args.seed, args.jpeg_prob,
                           args.augment, scale_range, data.stain_samples)
    initial_weights(args, model, sampler, data.mean, data.std, device)
    # The averaged weights make the per-epoch validation less noisy (whether they generalise better: README).
    ema = WeightAverage(model, args.ema) if args.ema > 0 else None
    run = Training(args, model, opt, sampler, ema, device, data, log_path, argv, t_loop)
    if args.resume:
        run.resume()
    run.begin_sitting()
    if not run.run(t_start):
        return None
    return export_run(run, architecture, fit_ids, val_ids, t_start, argv)


if __name__ == '__main__':
    main()
