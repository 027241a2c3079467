"""Fine-tune a model on a lab's reviewed regions (issue 30, AdaptModel): start from the PyTorch checkpoint its card
names, train on the regions' glomeruli, write a new model folder (ONNX, checkpoint, card, adapt.json) atomically.

  /usr/bin/python3 training/adapt.py --card models/glomseg-unet.json --manifest REGIONS.json --out DIR
      [--threads 2] [--max-minutes 12] [--max-steps 300|600] [--holdout 0.2] [--lr 1e-3] [--batch 8|12] [--crop 160]
      [--scale-range 0.6,1.6] [--colour mild|strong|off] [--focus 0] [--bn frozen|train] [--freeze-encoder] [--seed 0]
      [--replay REPLAY.json [--replay-share 0.333]]
      [--model-id ID] [--family F] [--version N] [--name TEXT] [--card-name glomseg-unet.json]

Manifest (JSON; paths relative to it):
  {"mpp": 2,                                   optional: the crops' um/px, checked against the card's mpp
   "regions": [{"id": "slide-7/r1",            unique; the held-out split hashes it
                "slide": "slide-7",            optional, for the record
                "image": "r1.png",             RGB crop of the reviewed region, at the model's pixel size (card mpp)
                "glomeruli": [[[x, y], ...]],  each a GeoJSON Polygon's rings (outline, holes) in crop pixels
                "reviewed": [[[x, y], ...]],   optional: the reviewed area within the crop (default: all of it)
                "stain": {"mean": [L, a, b], "std": [L, a, b]}}]}   optional: the slide's statistics as the
                                               server measured them (default: measured on the crop)
  Everything inside a region's reviewed area that is not a glomerulus is taught as background; nothing outside
  regions is ever used. Bounds: adapt_data.py (regions, edge, total pixels, vertices).

Replay (optional): a second manifest of the same format, usually the parent's own training tiles
(training/replay_regions.py); --replay-share of every batch's crops come from it, the rest from the lab's regions, so
that a few corrections add to what the network knows instead of replacing it. Replay regions are never held out.
With --replay the defaults are the recipe measured for it (docs/adaptation.md): batches of 12 (8 of the lab's crops,
4 replayed) and 600 steps; without it, batches of 8 lab crops and 300 steps.

Held out: --holdout of the regions, never trained on, chosen as the server's AdaptModel does (adapt_data.held_out);
their ids are in the card and the last line, to score before and after with the product's scorer. The server holds
out its share itself and passes the rest with --holdout 0.
Progress: one JSON object a line on stdout, {"step", "steps", "loss", "etaSeconds"}; at the end
{"done": true, "out", "card", "id", "steps", "seconds", "loss", "heldOut", "trained", "peakRssMB"}. Messages (and
PyTorch's warnings) go to stderr.
Output: DIR (must not exist or be empty) gets glomseg-unet.onnx, glomseg-unet.pt and the card (--card-name): the
parent's card with the same post-processing and stain normalisation, id --model-id (default <family>-v<version>:
the parent's family, its version + 1), `checkpoint` naming the new .pt (file, sha256, arch), provenance.adaptation
(parent, family, version, regions and glomeruli trained and held out, steps, seconds, recipe); the parent's metrics
and fp16 variant are left out. All of it is written in a temporary sibling folder renamed to DIR when complete.
Exit codes: 0 done; 2 bad arguments, manifest, card or checkpoint; 3 PyTorch (or numpy, PIL) missing; 4 stopped by
SIGTERM/SIGINT (nothing written); 1 anything else.
"""
import sys

EXIT_USAGE, EXIT_NO_TORCH, EXIT_STOPPED = 2, 3, 4
# The recipes' defaults. Replayed crops keep the network's own domain in every step, so it may train longer on the
# lab's crops without forgetting it (docs/adaptation.md, "Replaying the training tiles").
BATCH, STEPS = 8, 300
REPLAY_BATCH, REPLAY_SHARE, REPLAY_STEPS = 12, 1 / 3, 600

try:
    import numpy  # noqa: F401
    import PIL  # noqa: F401
    import torch
except ImportError as missing:
    sys.stderr.write(f'adapt: PyTorch is needed to adapt a model and {sys.executable} cannot import it ({missing}). '
                     f'Install it (Debian: apt-get install python3-torch python3-numpy python3-pil; or pip install '
                     f'torch numpy pillow) or run training/adapt.py with an interpreter that has it.\n')
    sys.exit(EXIT_NO_TORCH)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adapt_data import ManifestError, held_out, load_region, read_manifest  # noqa: E402
from adapt_output import write_model  # noqa: E402
from adapt_train import MixedSampler, RegionSampler, reparametrise, train  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--card', required=True, help="the parent model's card (its `checkpoint` names the weights)")
    p.add_argument('--manifest', required=True)
    p.add_argument('--out', required=True, help='the new model folder (must not exist, or be empty)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--max-minutes', type=float, default=12.0, help='training time budget (the schedule follows it)')
    p.add_argument('--max-steps', type=int, default=None, help='default 300; 600 with --replay')
    p.add_argument('--holdout', type=float, default=0.2, help='share of regions held out (0 to 0.5)')
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--weight-decay', type=float, default=1e-4)
    p.add_argument('--batch', type=int, default=None, help='crops a step (default 8; 12 with --replay)')
    p.add_argument('--crop', type=int, default=160, help='crop edge in model pixels (a multiple of 16)')
    p.add_argument('--scale-range', default='0.6,1.6', help='scale jitter: lowest,highest zoom (log-uniform)')
    p.add_argument('--colour', choices=('mild', 'strong', 'off'), default='mild')
    p.add_argument('--focus', type=float, default=0.0,
                   help='share of crops centred on a glomerulus, each glomerulus equally likely (0: anywhere)')
    p.add_argument('--bn', choices=('frozen', 'train'), default='frozen',
                   help='BatchNorm: frozen statistics, or batch statistics (train; not for a folded-ONNX checkpoint)')
    p.add_argument('--freeze-encoder', action='store_true', help='train the decoder only')
    p.add_argument('--ema', type=float, default=0.0,
                   help='decay of a moving average of the weights that becomes the new model (0: the last weights)')
    p.add_argument('--l2-parent', type=float, default=0.0,
                   help="weight of an L2 pull towards the parent's weights (less forgetting of its own domain)")
    p.add_argument('--replay', default='', help="a manifest of the parent's training regions to mix into each batch")
    p.add_argument('--replay-share', type=float, default=REPLAY_SHARE, help='share of each batch taken from --replay')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--model-id', default='', help="the new card's id (default: <family>-v<version>)")
    p.add_argument('--family', default='', help="default: the parent's family (a shipped model's own id)")
    p.add_argument('--version', type=int, default=0, help="default: the parent's version + 1 (shipped: 1)")
    p.add_argument('--card-name', default='glomseg-unet.json', help="the card's file name in DIR (versions: card.json)")
    p.add_argument('--name', default='', help="the new card's name (default: the parent's, adapted)")
    args = p.parse_args(argv)
    if args.batch is None:
        args.batch = REPLAY_BATCH if args.replay else BATCH
    if args.max_steps is None:
        args.max_steps = REPLAY_STEPS if args.replay else STEPS
    problems = [m for ok, m in [(args.threads >= 1, '--threads must be >= 1'),
                                (args.max_minutes > 0, '--max-minutes must be > 0'),
                                (args.max_steps >= 1, '--max-steps must be >= 1'),
                                (0 <= args.holdout <= 0.5, '--holdout must be 0 to 0.5'),
                                (args.batch >= 1, '--batch must be >= 1'),
                                (0 <= args.ema < 1, '--ema must be 0 to below 1'),
                                (0 <= args.focus <= 1, '--focus must be 0 to 1'),
                                (args.l2_parent >= 0, '--l2-parent must be >= 0'),
                                (0 < args.replay_share < 1, '--replay-share must be between 0 and 1'),
                                (not args.replay or args.batch >= 2, '--replay needs --batch 2 or more'),
                                (args.crop >= 32 and args.crop % 16 == 0, '--crop must be a multiple of 16, >= 32'),
                                (valid_range(args.scale_range), '--scale-range must be LOW,HIGH with 0 < LOW <= HIGH'),
                                (os.path.basename(args.card_name) == args.card_name and args.card_name.endswith('.json'),
                                 '--card-name must be a file name ending in .json')]
                if not ok]
    if problems:
        p.error('; '.join(problems))
    return args


def valid_range(text):
    try:
        low, high = (float(v) for v in text.split(','))
    except ValueError:
        return False
    return 0 < low <= high


def fail(message, code=EXIT_USAGE):
    sys.stderr.write(f'adapt: {message}\n')
    sys.exit(code)


def read_card(card_path):
    try:
        with open(card_path) as f:
            card = json.load(f)
    except (OSError, ValueError) as e:
        fail(f'cannot read the card {card_path}: {e}')
    named = card.get('checkpoint') if isinstance(card, dict) else None
    if not isinstance(named, dict) or not named.get('file'):
        fail(f'{card_path} names no PyTorch checkpoint ("checkpoint": {{"file", "sha256", "arch"}}): '
             f'this model cannot be adapted (training/checkpoint.py from-onnx makes one for the U-Net)')
    return card


def load_parent(card_path, card):
    """The parent's checkpoint (its file checked against the card's sha256) and its network."""
    from checkpoint import build, load, sha256
    named = card['checkpoint']
    path = os.path.join(os.path.dirname(os.path.abspath(card_path)), named['file'])
    if not os.path.exists(path):
        fail(f'the checkpoint {path} named by {card_path} is missing')
    if named.get('sha256') and sha256(path) != named['sha256']:
        fail(f'{path} does not match the sha256 in {card_path}: not the checkpoint of this model')
    ckpt = load(path)
    if named.get('arch') and ckpt.get('arch', 'unet') != named['arch']:
        fail(f'{path} holds a {ckpt.get("arch", "unet")} network, the card says {named["arch"]}')
    try:
        return ckpt, build(ckpt)
    except (RuntimeError, ValueError) as e:
        fail(f'{path} does not load into its architecture: {e}')


def prepare_regions(manifest, card, fraction):
    """The regions read, split into (train, held-out ids), with tensors for training."""
    from train_eval import low_resolution_pixels
    regions = read_manifest(manifest, card)
    hold = held_out(regions, fraction)
    train_regions, total = [], [0]
    for r in regions:
        if r['id'] in hold:
            continue
        rgb, mask, weight = load_region(r, total)
        image = torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous()
        train_regions.append({**r, 'image': image, 'mask': torch.from_numpy(mask), 'weight': torch.from_numpy(weight),
                              'pixels': low_resolution_pixels(image[None])[0]})
    return regions, hold, train_regions


def trainable(model, arch, freeze_encoder):
    prefix = {'unet': 'down.', 'mobilenet-unet': 'encoder.'}[arch] if freeze_encoder else None
    params = []
    for name, q in model.named_parameters():
        q.requires_grad_(prefix is None or not name.startswith(prefix))
        if q.requires_grad:
            params.append(q)
    return params


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    if os.path.exists(args.out) and (not os.path.isdir(args.out) or os.listdir(args.out)):
        fail(f'{args.out} exists and is not an empty folder: choose a new output folder')
    card = read_card(args.card)
    try:
        regions, hold, train_regions = prepare_regions(args.manifest, card, args.holdout)
        replay_regions = prepare_regions(args.replay, card, 0)[2] if args.replay else []
    except ManifestError as e:
        fail(str(e))
    ckpt, model = load_parent(args.card, card)
    if args.bn == 'train' and ckpt.get('foldedBatchNorm'):
        # Its BatchNorms are identity placeholders (mean 0, var 1) of an ONNX with them folded into the convolutions:
        # batch statistics would change the network itself (issue 30's leave-one-patient-out: it then finds nothing).
        fail(f'--bn train needs real BatchNorm statistics, and {card["checkpoint"]["file"]} was made from an ONNX '
             f'with its BatchNorms folded in: use --bn frozen (the default)')
    probe = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = model(probe)
        reparametrise(model)
        moved = float((model(probe) - before).abs().max())
    if moved > 1e-3:
        fail(f'internal: rescaling the filters changed the network (max logit difference {moved})', 1)
    if not train_regions:
        fail('no region left to train on after the held-out split')
    stain = card.get('stain') or {}
    reference = (tuple(torch.tensor(stain['reference'][k]) for k in ('mean', 'std'))
                 if stain.get('method') == 'reinhard' else None)
    torch.manual_seed(args.seed)
    scale_range = tuple(float(v) for v in args.scale_range.split(','))
    replayed = min(args.batch - 1, max(1, round(args.batch * args.replay_share))) if replay_regions else 0
    sampler = RegionSampler(train_regions, args.crop, args.batch - replayed, args.seed, reference, args.colour,
                            scale_range, args.focus)
    if replay_regions:
        sampler = MixedSampler(sampler, RegionSampler(replay_regions, args.crop, replayed, args.seed + 1, reference,
                                                      args.colour, scale_range))
    opts = {'lr': args.lr, 'weight_decay': args.weight_decay, 'max_steps': args.max_steps, 'bn': args.bn,
            'ema': args.ema, 'l2_parent': args.l2_parent,
            'max_seconds': args.max_minutes * 60, 'trainable': trainable(model, ckpt.get('arch', 'unet'),
                                                                         args.freeze_encoder)}

    def report(step, steps, loss, eta):
        print(json.dumps({'step': step, 'steps': steps, 'loss': round(loss, 5), 'etaSeconds': round(eta, 1)}),
              flush=True)

    mean, std = torch.tensor(card['input']['mean']), torch.tensor(card['input']['std'])
    steps, seconds, loss, stopped = train(model, sampler, mean, std, opts, lambda: bool(stopping), report)
    if stopped:
        fail(f'stopped by signal {stopping[0]} at step {steps}: nothing written', EXIT_STOPPED)
    summary = write_model(args, card, ckpt, model, regions, hold, train_regions,
                          {'steps': steps, 'seconds': round(seconds, 1), 'loss': loss}, lambda: bool(stopping))
    if summary is None:
        fail(f'stopped by signal {stopping[0]} while writing: nothing written', EXIT_STOPPED)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps({'done': True, **summary, 'peakRssMB': round(peak, 1)}), flush=True)


if __name__ == '__main__':
    main()
