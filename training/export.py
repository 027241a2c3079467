"""ONNX export and the model card (shared/src/model-card.ts ModelCard)."""
import copy
import json
import os

import torch


def export_onnx(model, path, opset=17):
    model = copy.deepcopy(model).to('cpu').to(memory_format=torch.contiguous_format).eval()
    dummy = torch.zeros(1, 3, 320, 320)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.onnx.export(
        model,
        dummy,
        path,
        opset_version=opset,
        input_names=['image'],
        output_names=['logits'],
        dynamic_axes={'image': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch', 2: 'height', 3: 'width'}},
        do_constant_folding=True,
    )
    return os.path.getsize(path)


# The terms a card states (shared/src/model-card.ts license, trainingData): the weights are ours, under the
# repository's LICENSE; the data is the HuBMAP VU set as ../shared/data/README.md describes it.
TERMS = {
    'license': {"spdx": "MIT", "copyright": "Copyright (c) 2026 the glomseg authors"},
    'trainingData': [
        {
            "name": "HuBMAP VU PAS kidney tiles (hubmap-vu: 1600 x 1200 tiles at about 0.5 um/px, labelme glomerulus polygons)",
            "source": "github.com/cns-iu/ccf-research-ftu (Indiana University CNS), folder \"Mask R-CNN/images\"; ground truth a consensus of four annotators",
            "license": "MIT",
            "imageTerms": "HuBMAP open-access data (Vanderbilt University PAS-stained human kidney whole-slide images, the donor series of the Kaggle \"HuBMAP - Hacking the Kidney\" competition)",
            "use": "the split=train tiles only: provenance.trainTiles to fit the weights, provenance.validationTiles to choose the checkpoint, threshold, seed threshold and minimum area; the eval-region tiles were never used"
        }
    ],
}
# Pretrained weights a network starts from are training data too: the card names them with their terms.
ENCODER_TRAINING_DATA = {
    'mobilenet-unet': {
        "name": "ImageNet (ILSVRC-2012), through the pretrained MobileNetV2 encoder (alpha 1.0) the U-Net starts from",
        "source": "npm package nsfwjs@4.4.0 (a dev dependency), dist/models/mobilenet_v2: a Keras MobileNetV2 whose "
                  "stem nsfwjs kept from ImageNet training; ported by training/mobilenet_v2_from_nsfwjs.py",
        "license": "MIT",
        "imageTerms": "no ImageNet image is used or shipped here, only weights learned from them, as nsfwjs "
                      "distributes them under MIT",
        "use": "initial encoder weights (BatchNorm recalibrated on the fit tiles; the layers before block_3_expand "
               "kept fixed), then trained on the HuBMAP tiles above"
    },
}


def terms(arch='unet'):
    """The licence and training data a card of this architecture states."""
    encoder = ENCODER_TRAINING_DATA.get(arch)
    return {**TERMS, 'trainingData': TERMS['trainingData'] + ([encoder] if encoder else [])}


def write_card(path, *, onnx_file, mean, std, mpp, downsample, tile_size, margin, threshold, min_area, provenance, metrics,
               description, stain=None, estimates_scale=True, arch='unet'):
    card = {
        'id': 'glomseg-unet',
        'name': 'Glomerulus U-Net (PAS, 2 um/px)',
        'description': description,
        **terms(arch),
        'file': onnx_file,
        'input': {
            'name': 'image',
            'layout': 'NCHW',
            'channelOrder': 'RGB',
            'scale': 255,
            'mean': [round(float(v), 4) for v in mean],
            'std': [round(float(v), 4) for v in std],
        },
        'output': {'name': 'logits', 'kind': 'logits', 'channel': 0},
        'mpp': mpp,
        'downsample': downsample,
        'tileSize': tile_size,
        # ScoreSlide's tiles (issue 31): the same margin around 768 model pixels; StreamTiles keeps tile_size.
        'scoreTileSize': 768,
        'margin': margin,
        'sizeMultiple': 16,
        'threshold': threshold,
        'minArea': min_area,
        **({'stain': stain} if stain else {}),
        **({} if estimates_scale else {'estimatesScale': False}),
        'provenance': provenance,
        'metrics': metrics,
    }
    with open(path, 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    return card
