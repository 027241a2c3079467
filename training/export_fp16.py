"""Writes the fp16 variant of an fp32 glomseg ONNX model, for the WebGPU execution provider.

Weights, activations, input and output become float16; the float32 'scales'/'roi' operands of Resize stay float32
(the ONNX spec requires it). The graph is otherwise unchanged, so the same model card applies (the server converts
the input to float16 and the output back, see server/src/inference/float16.ts).
Usage: /usr/bin/python3 training/export_fp16.py models/glomseg-unet.json
(writes models/glomseg-unet.fp16.onnx beside the card's file and lists it as the card's `variants.webgpu`;
train.py does the same after each export.)
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

# Operand positions that must stay float32 whatever the data type.
FLOAT32_OPERANDS = {'Resize': {1, 2}}


def to_fp16(src, dst):
    model = onnx.load(src)
    graph = model.graph
    keep32 = set()
    for node in graph.node:
        for position in FLOAT32_OPERANDS.get(node.op_type, ()):
            if position < len(node.input) and node.input[position]:
                keep32.add(node.input[position])
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and init.name not in keep32:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for node in graph.node:
        if node.op_type == 'Constant' and not (set(node.output) & keep32):
            for attr in node.attribute:
                if attr.name == 'value' and attr.t.data_type == TensorProto.FLOAT:
                    attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype(np.float16), attr.t.name))
    for value in list(graph.input) + list(graph.output):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
    del graph.value_info[:]  # stale float32 shapes; runtimes infer them again
    onnx.checker.check_model(model)
    onnx.save(model, dst)


def add_fp16_variant(card_path):
    """Converts the card's model to fp16 beside it and names it as the WebGPU variant. Returns the file name."""
    with open(card_path) as f:
        card = json.load(f)
    folder = os.path.dirname(os.path.abspath(card_path))
    stem, ext = os.path.splitext(card['file'])
    fp16_file = f'{stem}.fp16{ext}'
    to_fp16(os.path.join(folder, card['file']), os.path.join(folder, fp16_file))
    card['variants'] = {**card.get('variants', {}), 'webgpu': fp16_file}
    with open(card_path, 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    return fp16_file


if __name__ == '__main__':
    written = add_fp16_variant(sys.argv[1])
    print(f'wrote {written} and listed it as variants.webgpu in {sys.argv[1]}')
