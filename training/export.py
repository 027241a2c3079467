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


def write_card(path, *, onnx_file, mean, std, mpp, downsample, tile_size, margin, threshold, min_area, provenance, metrics,
               description, stain=None, estimates_scale=True):
    card = {
        'id': 'glomseg-unet',
        'name': 'Glomerulus U-Net (PAS, 2 um/px)',
        'description': description,
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
