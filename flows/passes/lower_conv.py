"""Lower Conv to Transpose(NHWC) -> Im2Col -> MatMul -> Transpose(NCHW)."""

from __future__ import annotations

import copy

from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.lower_convs_to_matmul import LowerConvsToMatMul

from flows.errors import UnsupportedError
from flows.graph import attr

SUPPORTED = (
    "group=1 or depthwise (group = input channels = output channels), dilation 1, kernels and "
    "strides >= 1, zero padding (pads or auto_pad)"
)


class _LowerWithQuantizedWeights(LowerConvsToMatMul):
    """qonnx's lowering, also for weights behind a BipolarQuant (qonnx handles Quant only)."""

    def extract_conv_params(self, model, node):
        params = list(super().extract_conv_params(model, node))
        if params[12] is None:  # W_conv
            prod = model.find_producer(node.input[1])
            if prod is not None and prod.op_type == "BipolarQuant":
                params[9] = prod.input[0]  # weight_name: the initializer behind the quantizer
                params[12] = model.get_initializer(prod.input[0])
                if model.get_initializer(prod.input[1]).ndim == 4:
                    params[11] = prod.input[1]  # per-channel scale: reordered with the weights
        return tuple(params)


class LowerConvToMatMul(Transformation):
    """Conv becomes a sliding window (Im2Col, channels last, element order (ky, kx, c)) and a
    MatMul whose weights are reordered to match, so the weight layout and the window order
    agree by construction; the weight quantizer stays in front of the MatMul. A depthwise
    Conv (group = C_in = C_out) becomes the same pattern with a block-diagonal [K*C, C]
    weight matrix (qonnx's lowering), which InferVVAU turns into a VVAU.

    Requires: cleaned graph (shapes inferred).
    Ensures: no Conv node; every former Conv is Transpose -> Im2Col -> MatMul -> Transpose
    (without the Im2Col for a 1x1 kernel, stride 1, unpadded); outputs identical (same
    products, same summation set). A Conv that cannot be lowered leaves the graph unchanged.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        convs = model.get_nodes_by_op_type("Conv")
        for node in convs:
            _check(node, model)
        if not convs:
            return model, False
        lowered = copy.deepcopy(model)  # ``model`` stays as it is if the lowering fails
        for node in lowered.get_nodes_by_op_type("Conv"):
            _explicit_defaults(node, lowered)
        lowered = lowered.transform(_LowerWithQuantizedWeights())
        left = lowered.get_nodes_by_op_type("Conv")
        if left:
            raise UnsupportedError(
                f"node '{left[0].name}': Conv weights must come from a constant Quant or "
                "BipolarQuant (Brevitas QuantConv2d); bias must be separable"
            )
        return lowered, False


def _explicit_defaults(node, model: ModelWrapper) -> None:
    """qonnx's lowering reads every Conv attribute; ONNX lets most of them default."""
    w = model.get_tensor_shape(node.input[1])
    defaults = {
        "group": 1,
        "kernel_shape": list(w[2:]),
        "strides": [1, 1],
        "pads": [0, 0, 0, 0],
        "dilations": [1, 1],
    }
    have = {a.name for a in node.attribute}
    for name, value in defaults.items():
        if name not in have:
            node.attribute.append(helper.make_attribute(name, value))


def _check(node, model: ModelWrapper) -> None:
    """Raise, naming the node, for a Conv this lowering (or the sliding window) cannot take."""
    where = f"node '{node.name}' (Conv)"
    group = attr(node, "group", 1)
    if group != 1:
        _check_depthwise(node, model, group, where)
    dil = attr(node, "dilations")
    if dil is not None and any(d != 1 for d in dil):
        raise UnsupportedError(
            f"{where}: dilation {list(dil)} is not supported; supported: {SUPPORTED}"
        )
    shape = model.get_tensor_shape(node.input[0])
    if shape is None or len(shape) != 4:
        raise UnsupportedError(
            f"{where}: only 1-D and 2-D convolutions (NCL or NCHW input) are supported, not "
            f"a {list(shape or [])} input (1-D ones run as 2-D of height 1: Conv1dAsConv2d)"
        )
    ks = attr(node, "kernel_shape")
    if ks is None:
        w = model.get_tensor_shape(node.input[1])
        ks_v = list(w[2:]) if w else []
    else:
        ks_v = list(ks)
    pads = attr(node, "pads")
    if len(ks_v) != 2 or ks_v[0] > shape[2] or ks_v[1] > shape[3]:
        both = [pads[i] + pads[i + 2] for i in range(2)] if pads else []
        if not pads or any(k > s + p for k, s, p in zip(ks_v, shape[2:], both)):
            raise UnsupportedError(
                f"{where}: kernel {ks_v} does not fit the {shape[2]}x{shape[3]} input"
            )
    pads_v = list(pads) if pads is not None else [0, 0, 0, 0]
    for axis, name in ((0, "height"), (1, "width")):
        if shape[2 + axis] == 1 and (ks_v[axis] > 1 or pads_v[axis] or pads_v[axis + 2]):
            # qonnx's Im2Col (the sliding window's reference) treats a 1-pixel axis as 1-D
            raise UnsupportedError(
                f"{where}: the input has {name} 1, so the kernel must be 1 and unpadded along "
                f"it (kernel {ks_v}, pads {pads_v}); pool or stride less before this conv"
            )


def _check_depthwise(node, model: ModelWrapper, group: int, where: str) -> None:
    """A grouped Conv is lowered only when depthwise with multiplier 1 (group = C_in = C_out:
    qonnx's lowering gives the block-diagonal MatMul the VVAU takes), with weights a zero can
    be quantized into (a bipolar weight cannot hold the zeros between the channels)."""
    shape = model.get_tensor_shape(node.input[0])
    w = model.get_tensor_shape(node.input[1])
    c_in = shape[1] if shape and len(shape) == 4 else None
    c_out = w[0] if w else None
    if c_in is None or group != c_in or c_out != c_in:
        raise UnsupportedError(
            f"{where}: group={group} is not supported with {c_in} input and {c_out} output "
            f"channels; a conv is either dense (group=1) or depthwise (group = input channels "
            f"= output channels, multiplier 1): split it into {group} convs and concatenate, or "
            f"make it depthwise or dense; supported: {SUPPORTED}"
        )
    wq = model.find_producer(node.input[1])
    if wq is not None and wq.op_type == "BipolarQuant":
        raise UnsupportedError(
            f"{where}: a depthwise conv with bipolar (BipolarQuant) weights is not supported: "
            "its lowered weight matrix is zero between the channels, which a bipolar weight "
            "cannot hold; quantize its weights with Quant (2 bits or more)"
        )
