"""The end of a train.py run: the best checkpoint exported as ONNX with its model card (provenance and validation
figures), the fp16 variant, the PyTorch checkpoint and, for the shipped architecture, the parity fixture."""
import datetime
import os
import sys
import time

import torch

from dataset import min_glomerulus_area
from export import export_onnx, write_card
from model import count_params
from train_loop import REPO
from warm_start import init_estimates_scale

# The card's minArea as a share of the smallest whole training glomerulus: the server judges it on glomeruli joined
# across tiles, so it needs no slack for pieces; the whole of it was chosen through the product on the validation
# tiles for v7 (3/4 for v5; training/README.md, Choices).
MIN_AREA_SHARE = 1.0
ONNX_NAME = 'glomseg-unet.onnx'


def export_run(run, architecture, fit_ids, val_ids, t_start, argv):
    """Writes the model, card and checkpoint of the best epoch; returns the best-checkpoint record."""
    args, best, data = run.args, run.best, run.data
    if best['dice'] < 0:
        raise SystemExit(f'{args.state}: no epoch validated yet, nothing to export')
    model = run.model
    model.load_state_dict(best['state'])
    model = model.to('cpu').to(memory_format=torch.contiguous_format).eval()
    train_seconds = time.time() - t_start
    chosen = best['scores'][best['threshold']]
    print(f'best epoch {best["epoch"]}: validation Dice {chosen["global"]:.4f} (mean per tile {chosen["meanTile"]:.4f}) '
          f'at threshold {best["threshold"]}', flush=True)

    os.makedirs(args.out, exist_ok=True)
    size = export_onnx(model, os.path.join(args.out, ONNX_NAME))
    min_area = min_glomerulus_area(args.data, fit_ids)
    scale_range = tuple(float(v) for v in args.scale_range.split(','))
    provenance = run_provenance(run, architecture, model, fit_ids, val_ids, train_seconds, argv)
    write_card(
        os.path.join(args.out, 'glomseg-unet.json'),
        onnx_file=ONNX_NAME, mean=data.mean.tolist(), std=data.std.tolist(), mpp=0.5 * args.downsample,
        downsample=args.downsample, tile_size=args.tile_size, margin=args.margin, threshold=best['threshold'],
        min_area=int(round(min_area * MIN_AREA_SHARE)) if min_area else 0, provenance=provenance,
        metrics=validation_metrics(run, chosen, len(val_ids)), stain=data.stain_card, arch=args.arch,
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
    write_extras(args, model, best, data, size)
    print(f'validation Dice {chosen["global"]:.4f} threshold {best["threshold"]} wall {train_seconds:.0f}s', flush=True)
    return best


def write_extras(args, model, best, data, size):
    """The fp16 variant, the PyTorch checkpoint and the parity fixture beside the exported model."""
    try:
        from export_fp16 import add_fp16_variant  # needs the onnx package (Debian: python3-onnx)
        print(f"fp16 variant for WebGPU: {add_fp16_variant(os.path.join(args.out, 'glomseg-unet.json'))}")
    except ImportError:
        print('onnx package missing (apt-get install python3-onnx): no fp16 variant written')
    os.makedirs(os.path.dirname(args.checkpoint), exist_ok=True)
    torch.save({'arch': args.arch, 'state': best['state'], 'base': args.base, 'maxWidth': args.max_width,
                'mean': data.mean.tolist(), 'std': data.std.tolist(), 'downsample': args.downsample}, args.checkpoint)
    print(f'wrote {os.path.join(args.out, ONNX_NAME)} ({size / 1e6:.2f} MB) and glomseg-unet.json; '
          f'checkpoint {args.checkpoint}', flush=True)
    if args.parity_fixture and not args.smoke:
        from export_parity_fixture import write_fixture
        write_fixture(model, data.mean.tolist(), data.std.tolist(), args.data, args.parity_fixture, args.downsample,
                      onnx_path=os.path.join(args.out, ONNX_NAME))


def run_provenance(run, architecture, model, fit_ids, val_ids, train_seconds, argv):
    """The card's provenance: data, split, every option that shaped the weights, and when and where."""
    args = run.args
    command = 'npm run train -- ' + ' '.join(argv if argv is not None else sys.argv[1:])
    return {
        'data': 'shared/data/hubmap-vu (HuBMAP VU PAS kidney tiles, github.com/cns-iu/ccf-research-ftu)',
        'split': f'split=train only; validation = slide A grid rows {args.val_rows_a} + last {args.val_b} slide-B tiles',
        'trainTiles': fit_ids,
        'validationTiles': val_ids,
        'seed': args.seed,
        'epochs': run.step // args.steps_per_epoch,
        'steps': run.step,
        'timeBudgetMinutes': args.time_budget_min,
        'stepsPerEpoch': args.steps_per_epoch,
        'batch': args.batch,
        'crop': args.crop,
        'weightAverageDecay': args.ema,
        'resamplers': run.data.resamplers,
        'jpegProb': args.jpeg_prob,
        'augment': args.augment,
        'gapWeight': args.gap_weight,
        'gapReach': args.gap_reach if args.gap_weight > 0 else None,
        'scaleRange': [float(v) for v in args.scale_range.split(',')],
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
                                f'checkpoint choice only, weight {args.other_labs_weight}; cases held out of the choice: '
                                f'{args.other_labs_held_out or "none"})') if args.other_labs else None,
        'parameters': count_params(model),
        'bestEpoch': run.best['epoch'],
        'torch': torch.__version__,
        'device': str(run.device),
        'command': command,
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'trainingWallSeconds': round(train_seconds, 1),
        'trainingLoopSeconds': round(time.time() - run.t_loop, 1),  # over every sitting of a resumed run
    }


def validation_metrics(run, chosen, tiles):
    """The card's metrics: the best epoch's validation figures and the whole curve."""
    args, best = run.args, run.best
    return {
        'validation': {
            'dice': round(chosen['global'], 4),
            'meanTileDice': round(chosen['meanTile'], 4),
            'threshold': best['threshold'],
            'tiles': tiles,
            'scale': f'model pixels at 1/{args.downsample}, truth = area fraction >= 0.5',
            'inputs': 'mean of box-averaged tiles and the same tiles as a Lanczos JPEG (q90) pyramid level',
            'diceBox': round(best['box']['global'], 4),
            'dicePyramid': round(best['pyramid']['global'], 4),
            'diceByThreshold': {str(t): round(s['global'], 4) for t, s in best['scores'].items()},
            **({'stressDice': {n: round(d, 4) for n, d in best['stress'].items()}} if best['stress'] else {}),
            **({'otherLabsMeanImageDice': round(best['otherLabs'], 4)} if 'otherLabs' in best else {}),
            **({'otherLabsHeldOutMeanImageDice': round(best['otherLabsHeldOut'], 4)}
               if 'otherLabsHeldOut' in best else {}),
        },
        'history': run.history,
    }
