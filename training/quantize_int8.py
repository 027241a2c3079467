"""Static int8 quantisation (ONNX QDQ format) of an exported glomseg model, with python3-onnx alone.

Two steps around a calibration run in Node (training/calibrate_int8.mjs, the product's own tile preprocessing):
  /usr/bin/python3 training/quantize_int8.py probe SRC.onnx PROBE.onnx
      writes SRC with every float activation as an extra output, for the calibration run to measure;
  /usr/bin/python3 training/quantize_int8.py quantize SRC.onnx RANGES.json DST.onnx
      [--float PREFIX,...] writes DST: QuantizeLinear/DequantizeLinear pairs on the activations (uint8, asymmetric, from the calibrated
      min/max), convolution weights int8 symmetric per output channel, biases int32. ONNX Runtime's CPU provider
      fuses DQ -> Conv -> Q into QLinearConv, drops the pairs around MaxPool and Resize (same scale on both sides)
      and turns Concat into QLinearConcat.
A Relu right after a Conv is folded into the Conv's output quantisation (range [0, max], zero point 0: the
QuantizeLinear clamps at 0 itself), as ONNX Runtime's own quantiser does. The last Conv (the logits) stays float:
its output is cut at a threshold, where 8 bits would move the boundary. `--float PREFIX,...` keeps more nodes float
(those whose ONNX node name starts with a prefix, e.g. a decoder's full-resolution level, where the outline is drawn):
their weights and outputs stay float, and a Relu after such a Conv stays a Relu. Works on any graph made of Conv, Relu,
MaxPool, Resize and Concat (the U-Net and the MobileNetV2 U-Net alike); other ops stay float between DQ and Q.
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Ops whose output takes the input's quantisation, so that ONNX Runtime can drop the pair and run them on uint8.
SAME_SCALE_OPS = {'MaxPool', 'Resize', 'Pad'}
# Ops whose float outputs are quantised (ONNX Runtime has QDQ kernels or fusions for them). Others (Pad, Slice,
# Reshape, shape arithmetic) run as they are between a DequantizeLinear and the next QuantizeLinear.
QUANTISED_OPS = {'Conv', 'Relu', 'Clip', 'MaxPool', 'Resize', 'Concat', 'Add', 'Pad'}


def consumers(graph):
    uses = {}
    for node in graph.node:
        for name in node.input:
            uses.setdefault(name, []).append(node)
    return uses


def float_tensors(graph):
    """Names of the float tensors, by ONNX shape inference (shape arithmetic in int64 is never quantised)."""
    inferred = onnx.shape_inference.infer_shapes(onnx.helper.make_model(graph)).graph
    values = list(inferred.value_info) + list(inferred.input) + list(inferred.output)
    return {v.name for v in values if v.type.tensor_type.elem_type == TensorProto.FLOAT}


def activation_names(graph, floats=None):
    """Activations worth quantising: the float input, and the float outputs of QUANTISED_OPS but the graph's outputs."""
    floats = float_tensors(graph) if floats is None else floats
    outputs = {o.name for o in graph.output}
    names = [i.name for i in graph.input if i.name in floats]
    for node in graph.node:
        if node.op_type in QUANTISED_OPS:
            names += [o for o in node.output if o and o in floats and o not in outputs]
    return names


def probe(src, dst):
    model = onnx.load(src)
    graph = model.graph
    known = {o.name for o in graph.output}
    for name in activation_names(graph):
        if name not in known:
            graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    onnx.save(model, dst)


def fold_relus(graph, kept_float=lambda node: False):
    """Removes each Relu that is the only consumer of a quantised Conv; the Conv writes the Relu's output. Returns
    their names."""
    uses = consumers(graph)
    producers = {o: n for n in graph.node for o in n.output}
    folded = set()
    for relu in [n for n in graph.node if n.op_type == 'Relu']:
        conv = producers.get(relu.input[0])
        if conv is None or conv.op_type != 'Conv' or kept_float(conv) or len(uses.get(relu.input[0], [])) != 1:
            continue
        conv.output[0] = relu.output[0]
        graph.node.remove(relu)
        folded.add(relu.output[0])
    return folded


def uint8_params(low, high):
    low, high = min(0.0, float(low)), max(0.0, float(high))
    scale = (high - low) / 255.0 or 1.0
    zero = int(np.clip(round(-low / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


def plan_params(graph, ranges, folded, floats):
    """Scale and zero point of each activation, in graph order (SAME_SCALE_OPS copy their input's)."""
    params = {}
    producers = {o: n for n in graph.node for o in n.output}
    for name in activation_names(graph, floats):
        node = producers.get(name)
        if node is not None and node.op_type in SAME_SCALE_OPS and node.input[0] in params:
            params[name] = params[node.input[0]]
            continue
        if name not in ranges:
            raise SystemExit(f'no calibration range for {name}: calibrate with the probe of this model')
        low, high = ranges[name]
        params[name] = uint8_params(0.0 if name in folded else low, high)
    return params


def add_qdq(graph, name, scale, zero, new_nodes, initializers):
    """Q then DQ of `name`; returns the dequantised tensor's name for the consumers."""
    s, z = f'{name}_scale', f'{name}_zero'
    initializers += [numpy_helper.from_array(np.array(scale), s), numpy_helper.from_array(np.array(zero), z)]
    new_nodes.append(helper.make_node('QuantizeLinear', [name, s, z], [f'{name}_q']))
    new_nodes.append(helper.make_node('DequantizeLinear', [f'{name}_q', s, z], [f'{name}_dq']))
    return f'{name}_dq'


def quantize_conv_weights(node, weights, input_scale, initializers, new_nodes):
    """Per-output-channel symmetric int8 weights and int32 bias (scale = input scale x weight scale), each behind a DQ."""
    w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
    w_scale = (np.abs(w.reshape(w.shape[0], -1)).max(axis=1) / 127.0).astype(np.float32)
    w_scale[w_scale == 0] = 1.0
    w_q = np.clip(np.round(w / w_scale.reshape(-1, *[1] * (w.ndim - 1))), -127, 127).astype(np.int8)
    base = node.input[1]
    initializers += [
        numpy_helper.from_array(w_q, f'{base}_q'),
        numpy_helper.from_array(w_scale, f'{base}_wscale'),
        numpy_helper.from_array(np.zeros(w.shape[0], np.int8), f'{base}_wzero'),
    ]
    new_nodes.append(
        helper.make_node('DequantizeLinear', [f'{base}_q', f'{base}_wscale', f'{base}_wzero'], [f'{base}_dq'], axis=0)
    )
    node.input[1] = f'{base}_dq'
    if len(node.input) > 2 and node.input[2]:
        b = numpy_helper.to_array(weights[node.input[2]]).astype(np.float32)
        b_scale = (w_scale * np.float32(input_scale)).astype(np.float32)
        b_q = np.round(b / b_scale).astype(np.int32)
        bias = node.input[2]
        initializers += [
            numpy_helper.from_array(b_q, f'{bias}_q'),
            numpy_helper.from_array(b_scale, f'{bias}_bscale'),
            numpy_helper.from_array(np.zeros(w.shape[0], np.int32), f'{bias}_bzero'),
        ]
        new_nodes.append(
            helper.make_node('DequantizeLinear', [f'{bias}_q', f'{bias}_bscale', f'{bias}_bzero'], [f'{bias}_dq'], axis=0)
        )
        node.input[2] = f'{bias}_dq'


def float_nodes(graph, prefixes):
    """The nodes kept float: those named with one of the prefixes, and each Relu right after one of them."""
    named = {n.name for n in graph.node if any(n.name.startswith(p) for p in prefixes)}
    producers = {o: n for n in graph.node for o in n.output}
    return named | {n.name for n in graph.node if n.op_type == 'Relu' and n.input[0] in producers
                    and producers[n.input[0]].name in named}


def quantize(src, ranges_file, dst, float_prefixes=()):
    with open(ranges_file) as f:
        ranges = json.load(f)['ranges']
    model = onnx.load(src)
    graph = model.graph
    floats = float_tensors(graph)
    kept = float_nodes(graph, float_prefixes)
    folded = fold_relus(graph, lambda node: node.name in kept)
    params = plan_params(graph, ranges, folded, floats)
    for node in graph.node:
        if node.name in kept:
            for out in node.output:
                params.pop(out, None)
    weights = {i.name: i for i in graph.initializer}
    graph_outputs = {o.name for o in graph.output}
    initializers, order = [], []
    qdq_of = {}
    for name in [i.name for i in graph.input]:
        qdq_of[name] = add_qdq(graph, name, *params[name], order, initializers)
    for node in list(graph.node):
        inputs = list(node.input)
        for position, name in enumerate(inputs):
            if name in qdq_of and not (node.op_type in ('Resize', 'Pad') and position > 0):
                node.input[position] = qdq_of[name]
        quantised_input = bool(inputs) and inputs[0] in params
        if (node.op_type == 'Conv' and quantised_input and node.name not in kept and node.output[0] not in graph_outputs
                and node.input[1] in weights):
            quantize_conv_weights(node, weights, params[inputs[0]][0], initializers, order)
        order.append(node)
        for out in node.output:
            if out in params:
                qdq_of[out] = add_qdq(graph, out, *params[out], order, initializers)
    del graph.node[:]
    graph.node.extend(order)
    used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept + initializers)
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'probe':
        probe(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == 'quantize':
        quantize(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == 'quantize' and sys.argv[5] == '--float':
        quantize(*sys.argv[2:5], float_prefixes=[p for p in sys.argv[6].split(',') if p])
    else:
        raise SystemExit(__doc__)
