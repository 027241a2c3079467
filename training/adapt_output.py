"""The new model folder of training/adapt.py: ONNX, checkpoint and card written into a temporary sibling folder,
which is renamed to the output folder only when all of it is there (a killed run leaves no half-model). The card's
provenance.adaptation uses the names of shared/src/adaptation.ts AdaptationFigures (the server adds its held-out
figures)."""
import datetime
import json
import os
import resource
import shutil
import socket
import tempfile

import torch

from checkpoint import sha256
from export import export_onnx

ONNX, CHECKPOINT = 'glomseg-unet.onnx', 'glomseg-unet.pt'


def write_model(args, card, ckpt, model, regions, hold, train_regions, run, stop):
    """Writes the folder; returns the summary printed at the end, or None when `stop()` turned true (nothing kept)."""
    out = os.path.abspath(args.out)
    parent_dir = os.path.dirname(out)
    os.makedirs(parent_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{os.path.basename(out)}.', dir=parent_dir)
    try:
        export_onnx(model, os.path.join(tmp, ONNX))
        torch.save({**{k: v for k, v in ckpt.items() if k not in ('onnxSha256', 'foldedBatchNorm')},
                    'state': model.state_dict()}, os.path.join(tmp, CHECKPOINT))
        adaptation = record(args, card, regions, hold, train_regions, run)
        new_card = adapted_card(args, card, ckpt, tmp, adaptation)
        dump(os.path.join(tmp, args.card_name), new_card)
        if stop():
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        if os.path.isdir(out):
            os.rmdir(out)  # empty (checked at the start); rename needs it gone or empty
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {'out': out, 'card': os.path.join(out, args.card_name), 'id': new_card['id'], 'steps': run['steps'],
            'seconds': run['seconds'], 'loss': run['loss'], 'heldOut': sorted(hold),
            'trained': [r['id'] for r in train_regions]}


def lineage(args, card):
    """(id, family, version) of the new model: the family is the parent's (its own id for a shipped model) and the
    version one above the parent's (a shipped model is version 1), as model-versions.ts nextVersion counts."""
    parent = (card.get('provenance') or {}).get('adaptation') or {}
    family = args.family or parent.get('family') or card['id']
    version = args.version or int(parent.get('version', 1)) + 1
    return args.model_id or f'{family}-v{version}', family, version


def record(args, card, regions, hold, train_regions, run):
    """The card's provenance.adaptation: parent, data, recipe, steps and time."""
    held = [r for r in regions if r['id'] in hold]
    _, family, version = lineage(args, card)
    return {
        'parent': card['id'], 'family': family, 'version': version,
        'slides': sorted({r['slide'] for r in regions}),
        'trainedRegions': len(train_regions), 'trainedGlomeruli': sum(len(r['glomeruli']) for r in train_regions),
        'heldOutRegions': len(held), 'heldOutGlomeruli': sum(len(r['glomeruli']) for r in held),
        'heldOutIds': sorted(hold), 'steps': run['steps'], 'trainingSeconds': run['seconds'],
        'trainer': {
            'script': 'training/adapt.py', 'parentCheckpointSha256': card['checkpoint'].get('sha256'),
            'trainedIds': [r['id'] for r in train_regions], 'maxSteps': args.max_steps,
            'finalLoss': None if run['loss'] is None else round(run['loss'], 5),
            'recipe': {'lr': args.lr, 'weightDecay': args.weight_decay, 'batch': args.batch, 'crop': args.crop,
                       'scaleRange': args.scale_range, 'colour': args.colour, 'focus': args.focus,
                       'batchNorm': args.bn,
                       'freezeEncoder': args.freeze_encoder, 'ema': args.ema, 'l2Parent': args.l2_parent,
                       'replay': replay_record(args), 'heldOutFraction': args.holdout, 'seed': args.seed, 'threads': args.threads,
                       'maxMinutes': args.max_minutes},
            'torch': torch.__version__, 'host': socket.gethostname(),
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            # The process's peak so far (reading, training, export): what a lab's server must have free.
            'peakRssMB': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    }


def replay_record(args):
    """What was replayed: the manifest's source folder (training tiles, never the lab's) and the batch share."""
    if not args.replay:
        return None
    with open(args.replay) as f:
        manifest = json.load(f)
    return {'source': manifest.get('source', os.path.abspath(args.replay)), 'regions': len(manifest['regions']),
            'share': args.replay_share}


def adapted_card(args, card, ckpt, folder, adaptation):
    """The parent's card for the new weights: the same input, scale, post-processing and stain normalisation; the
    parent's metrics and variants (fp16) do not describe these weights, so they are left out."""
    new = {k: v for k, v in card.items() if k not in ('metrics', 'variants', 'checkpoint')}
    new['id'] = lineage(args, card)[0]
    new['name'] = args.name or f"{card['name'].split(' (adapted')[0]} (adapted, version {adaptation['version']})"
    new['file'] = ONNX
    new['checkpoint'] = {'file': CHECKPOINT, 'sha256': sha256(os.path.join(folder, CHECKPOINT)),
                         'arch': ckpt.get('arch', 'unet')}
    new['provenance'] = {**(card.get('provenance') or {}), 'adaptation': adaptation}
    return new


def dump(path, value):
    with open(path, 'w') as f:
        json.dump(value, f, indent=2)
        f.write('\n')
