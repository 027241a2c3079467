"""Start training from an exported model: the ONNX file's convolutions (BatchNorm already folded into them) are
loaded into the U-Net, and each BatchNorm is set so that the network computes exactly the exported function in
eval mode and nearly it in train mode (its scale and shift are calibrated on training batches). The checkpoint of
the run that made a shipped model need not survive for the next run to continue from it.
"""
import json
import os

import torch


def forward_convs(model):
    """The model's convolutions in the order its forward pass (and so the ONNX graph) runs them, each with the
    BatchNorm that follows it (or None) and the number of equal parts its input is a concatenation of: 2 for the
    first convolution of a decoder block (upsampled features, then the skip), else 1."""
    convs = []
    for block in model.down:
        convs += [(block[0], block[1], 1), (block[3], block[4], 1)]
    for reduce, block in zip(model.reduce, model.up):
        convs += [(reduce, None, 1), (block[0], block[1], 2), (block[3], block[4], 1)]
    convs.append((model.head, None, 1))
    return convs


def widened(file_weight, conv, parts):
    """A file's convolution weight placed into a wider convolution's (a U-Net of a larger base width started from a
    narrower one): its outputs are the first channels, and each of its input parts goes to the start of the wider
    part. The new input channels get zero weight into the old outputs, so the old channels compute exactly what
    the file did; the new output channels keep the layer's random initialisation (it breaks their symmetry), and
    their zero weight into the next layer makes them start with no effect. Training grows them."""
    old_out, old_in = file_weight.shape[:2]
    new_out, new_in = conv.weight.shape[:2]
    if file_weight.shape[2:] != conv.weight.shape[2:] or old_out > new_out or old_in > new_in \
            or old_in % parts or new_in % parts:
        raise ValueError(f'{tuple(file_weight.shape)} in the file does not fit {tuple(conv.weight.shape)} here')
    w = conv.weight.detach().clone()
    w[:old_out] = 0
    old_part, new_part = old_in // parts, new_in // parts
    for k in range(parts):
        w[:old_out, k * new_part:k * new_part + old_part] = file_weight[:, k * old_part:(k + 1) * old_part]
    return w


@torch.no_grad()
def load_onnx_weights(model, onnx_path, batches):
    """Copies the ONNX model's weights into `model` (a UNet of the same shape, or of a larger base width: see
    `widened`); `batches` are normalised training inputs used to calibrate the BatchNorm layers. Returns the largest
    |logit| difference from the ONNX function on the first batch, in eval mode (0 up to rounding)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(onnx_path).graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    convs = [n for n in graph.node if n.op_type == 'Conv']
    with_inputs = forward_convs(model)
    pairs = [(conv, bn) for conv, bn, _ in with_inputs]
    if len(convs) != len(pairs):
        raise ValueError(f'{onnx_path} has {len(convs)} convolutions; this U-Net has {len(pairs)}')
    biases = []
    for node, (conv, bn, parts) in zip(convs, with_inputs):
        w = weights[node.input[1]]
        b = weights[node.input[2]] if len(node.input) > 2 else torch.zeros(w.shape[0])
        if tuple(w.shape) != tuple(conv.weight.shape):
            try:
                w = widened(w, conv, parts)
            except ValueError as e:
                raise ValueError(f'convolution {node.name}: {e}') from None
            b = torch.cat([b, torch.zeros(w.shape[0] - b.shape[0])])
        conv.weight.copy_(w)
        if bn is None:
            conv.bias.copy_(b)
        else:  # identity BatchNorm plus the folded bias, for the calibration pass
            bn.running_mean.zero_()
            bn.running_var.fill_(1 - bn.eps)
            bn.weight.fill_(1)
            bn.bias.copy_(b)
        biases.append(b)
    reference = model.eval()(batches[0]).clone()
    # Per-channel moments of each convolution's output (before its BatchNorm) over the calibration batches.
    sums, hooks = {}, []
    for conv, bn in pairs:
        if bn is None:
            continue

        def hook(module, _inputs, out, key=conv):
            s = sums.setdefault(key, [0.0, 0.0, 0])
            s[0] += out.sum(dim=(0, 2, 3)).double()
            s[1] += (out.double() ** 2).sum(dim=(0, 2, 3))
            s[2] += out.numel() // out.shape[1]
        hooks.append(conv.register_forward_hook(hook))
    for x in batches:
        model(x)
    for h in hooks:
        h.remove()
    for (conv, bn), b in zip(pairs, biases):
        if bn is None:
            continue
        total, squares, count = sums[conv]
        mean = (total / count).float()
        var = (squares / count).float() - mean ** 2
        std = (var.clamp(min=1e-8) + bn.eps).sqrt()
        # eval: (y - mean) / std * std + mean + b == y + b; train: batch moments stand in for these, nearly equal.
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(std ** 2 - bn.eps)
        bn.weight.copy_(std)
        bn.bias.copy_(mean + b)
    return float((model(batches[0]) - reference).abs().max())


def init_estimates_scale(onnx_path):
    """Whether the model the weights start from allows the server's scale estimate: its card (the .json beside the
    .onnx) says so; a run from scratch, or a card that does not say, allows it."""
    if not onnx_path:
        return True
    card_path = os.path.splitext(onnx_path)[0] + '.json'
    if not os.path.exists(card_path):
        return True
    with open(card_path) as f:
        return json.load(f).get('estimatesScale', True) is not False
