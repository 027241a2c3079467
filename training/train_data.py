"""What train.py trains and validates on: the fit tiles (one copy per resampling kernel), the validation looks, the
input statistics, the stain reference and the other lab's images (validated on, never trained on)."""
import functools
import time
import types

import torch

from augment import StainSamples
from dataset import downsample_image, instance_gaps, load_other_labs, load_tiles, pyramid_look
from stain import reference as stain_reference
from train_eval import images_tensor, low_resolution_pixels, masks_tensor, normalise_each, stress_looks


def load_data(args, architecture, rows, fit_ids, val_ids, t_start):
    """Everything the run reads from disk, in the order the seeded run has always read it."""
    data = types.SimpleNamespace(resamplers=[r for r in args.resamplers.split(',') if r])
    fit_images, fit_masks = load_tiles(args.data, fit_ids, args.downsample,
                                       [functools.partial(downsample_image, resample=r) for r in data.resamplers])
    data.fit_variants = [images_tensor(images) for images in fit_images]
    data.fit_msk = masks_tensor(fit_masks)
    if args.gap_weight > 0:
        gaps = masks_tensor(instance_gaps(args.data, fit_ids, args.downsample, args.gap_reach))
        data.fit_msk = torch.cat([data.fit_msk, gaps], dim=1)  # the sampler crops and warps both channels alike
        print(f'gap weight {args.gap_weight}: {int(gaps.sum())} gap pixels in {int((gaps.sum(dim=(1, 2, 3)) > 0).sum())} '
              f'fit tiles', flush=True)
    # Validation reads each tile twice: box-averaged (like the JPEG tiles) and as from a sharp JPEG pyramid level
    # (like a libtiff-made slide such as the eval region); checkpoints are picked on the mean of the two.
    (val_box, val_look), val_masks = load_tiles(args.data, val_ids, args.downsample, (downsample_image, pyramid_look))
    val_img, val_pyr, data.val_msk = images_tensor(val_box), images_tensor(val_look), masks_tensor(val_masks)
    data.mean, data.std = input_statistics(architecture, data.fit_variants[-1])
    print(f'tiles at 1/{args.downsample}: {tuple(data.fit_variants[-1].shape[2:])}; mean {data.mean.tolist()} '
          f'std {data.std.tolist()}; loaded in {time.time() - t_start:.1f}s', flush=True)
    data.val_looks = {'box': val_img, 'pyramid': val_pyr}
    if args.stress_val:
        data.val_looks.update(stress_looks([img for img in val_box]))
    data.stain_card, data.stain_samples, reference = stain_reference(args.data), None, None
    if args.stain_normalization != 'off':
        data.stain_card['method'] = args.stain_normalization
        reference = tuple(torch.tensor(data.stain_card['reference'][k]) for k in ('mean', 'std'))
        slide_of = {r['tile_id']: r['slide'] for r in rows}
        data.stain_samples = StainSamples(low_resolution_pixels(data.fit_variants[0]), [slide_of[t] for t in fit_ids],
                                          reference, args.seed)
        data.val_looks = {name: normalise_each(look, reference) for name, look in data.val_looks.items()}
    data.other = load_other(args, reference)
    return data


def input_statistics(architecture, fit_img):
    """The dataset's own colour statistics (fit tiles as the last kernel listed made them: bicubic by default),
    rounded as they will appear in the card."""
    if architecture.unit_input:  # the encoder's own input: RGB in [0, 1]
        return torch.zeros(3), torch.ones(3)
    px = fit_img.float().div(255.0)
    mean = torch.tensor([round(float(v), 4) for v in px.mean(dim=(0, 2, 3))])
    std = torch.tensor([round(float(v), 4) for v in px.std(dim=(0, 2, 3))])
    return mean, std


def load_other(args, reference):
    """The other lab's images and masks, for validation and model choice only: they never reach the sampler."""
    if not args.other_labs:
        return None
    other_ids, other_images, other_masks, cases = load_other_labs(args.other_labs, 0.5 * args.downsample,
                                                                  limit=2 if args.smoke else 0)
    held_out_cases = {c for c in args.other_labs_held_out.split(',') if c}
    held_out = [c in held_out_cases for c in cases]
    other_img = [images_tensor([im]) for im in other_images]
    if args.stain_normalization != 'off':
        other_img = [normalise_each(im, reference) for im in other_img]
    print(f'other-lab validation: {len(other_ids)} images from {args.other_labs}, {sum(held_out)} of them held out of '
          f'the checkpoint choice ({", ".join(sorted(held_out_cases)) or "none"})', flush=True)
    return other_img, [masks_tensor([m]) for m in other_masks], held_out
