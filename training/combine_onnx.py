"""Combines exported glomseg models of one architecture into one ONNX file, so the product runs them as one model:
- `soup`: the mean of their weights (a weight-averaged "model soup"). Only for runs that share a starting point (one
  continued from the other, `--init-onnx`), which keeps them in one basin where the mean of the weights still works;
  BatchNorm is folded into the convolutions in an export, so the folded weights are what is averaged. Same cost as
  one model.
- `ensemble`: both networks side by side on the same input, their logits averaged. Costs one run of each.
The card is the first model's, with `provenance.combinedFrom` naming the parts; its metrics are dropped (they were
the first model's), so measure the result through the product again (training/score_validation.sh).
Usage: /usr/bin/python3 training/combine_onnx.py soup|ensemble OUT_FOLDER MODEL_FOLDER MODEL_FOLDER [...]
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_fp16 import add_fp16_variant  # noqa: E402


def load(folder):
    with open(os.path.join(folder, 'glomseg-unet.json')) as f:
        card = json.load(f)
    return card, onnx.load(os.path.join(folder, card['file']))


def soup(models):
    first = models[0]
    names = [i.name for i in first.graph.initializer]
    for other in models[1:]:
        if [n.op_type for n in other.graph.node] != [n.op_type for n in first.graph.node] or \
                [i.name for i in other.graph.initializer] != names:
            raise SystemExit('soup needs models of one graph (same nodes and weight names): export them with one export.py')
    out = onnx.ModelProto()
    out.CopyFrom(first)
    for k, init in enumerate(out.graph.initializer):
        arrays = [numpy_helper.to_array(m.graph.initializer[k]) for m in models]
        if init.data_type != TensorProto.FLOAT:
            if any(not np.array_equal(a, arrays[0]) for a in arrays[1:]):
                raise SystemExit(f'non-float weight {init.name} differs between the models')
            continue
        if any(a.shape != arrays[0].shape for a in arrays[1:]):
            raise SystemExit(f'weight {init.name} has different shapes')
        init.CopyFrom(numpy_helper.from_array(np.mean(arrays, axis=0).astype(np.float32), init.name))
    return out


def ensemble(models, input_name, output_name):
    nodes, inits = [], []
    logits = []
    for k, model in enumerate(models):
        prefixed = onnx.compose.add_prefix(model, f'm{k}_')
        rename = {f'm{k}_{input_name}': input_name}
        for node in prefixed.graph.node:
            node.input[:] = [rename.get(x, x) for x in node.input]
        nodes.extend(prefixed.graph.node)
        inits.extend(prefixed.graph.initializer)
        logits.append(f'm{k}_{output_name}')
    share = numpy_helper.from_array(np.array(1.0 / len(models), dtype=np.float32), 'ensemble_share')
    nodes.append(helper.make_node('Sum', logits, ['ensemble_sum']))
    nodes.append(helper.make_node('Mul', ['ensemble_sum', 'ensemble_share'], [output_name]))
    first = models[0]
    graph = helper.make_graph(nodes, 'glomseg_ensemble', list(first.graph.input), list(first.graph.output), inits + [share])
    out = helper.make_model(graph, opset_imports=first.opset_import, producer_name='glomseg combine_onnx.py')
    out.ir_version = first.ir_version
    return out


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ('soup', 'ensemble'):
        raise SystemExit(__doc__)
    mode, out_folder, folders = sys.argv[1], sys.argv[2], sys.argv[3:]
    loaded = [load(f) for f in folders]
    card = loaded[0][0]
    models = [m for _, m in loaded]
    combined = soup(models) if mode == 'soup' else ensemble(models, card['input']['name'], card['output']['name'])
    onnx.checker.check_model(combined)
    os.makedirs(out_folder, exist_ok=True)
    onnx.save(combined, os.path.join(out_folder, card['file']))
    card = {k: v for k, v in card.items() if k not in ('metrics', 'variants')}
    card['provenance'] = {**card.get('provenance', {}), 'combinedFrom': {'mode': mode, 'models': [os.path.relpath(f) for f in folders]}}
    card_path = os.path.join(out_folder, 'glomseg-unet.json')
    with open(card_path, 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    add_fp16_variant(card_path)
    print(f'{mode} of {len(models)} models -> {out_folder}')


if __name__ == '__main__':
    main()
