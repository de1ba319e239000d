"""Integerize MatMul layers and absorb what follows them into thresholds."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.chains import Chain, follow_chain
from flows.datatypes import BIPOLAR, accumulator_bounds, signed_type_holding
from flows.errors import UnsupportedError
from flows.graph import TO_NCHW, is_transpose, replace_nodes
from flows.ops import MONOTONE_OPS, SCALE_COMMUTING_OPS
from flows.passes.infer_shapes import InferShapes
from flows.quantizers import (
    Quantizer,
    is_activation_quantizer,
    is_quantizer,
    quantized_weight_integers,
    read_quantizer,
)
from flows.thresholds import ChainEvaluator, ThresholdResult, compute_thresholds

MAX_ACC_BITS = 32  # widest accumulator the MVAU kernel holds
MAX_ACT_BITS = 12  # 4095 thresholds per channel; wider activations are impractical


def weight_scale_per_channel(scale: np.ndarray, mw: int, mh: int, where: str) -> np.ndarray:
    """A weight scale as one float32 per output channel (MatMul weights are [MW, MH])."""
    s = np.asarray(scale, np.float32)
    if s.size == 1:
        return np.full(mh, s.ravel()[0], np.float32)
    full = np.broadcast_to(s, (mw, mh))
    if not np.all(full == full[:1, :]):
        raise UnsupportedError(
            f"node '{where}': the weight scale varies along the input dimension; bitfab "
            "supports per-tensor and per-output-channel weight scales"
        )
    return full[0].astype(np.float32)


class AbsorbIntoThresholds(Transformation):
    """Turn ``Quant_x -> MatMul(Quant_w) -> chain -> Quant_y`` into an integer layer.

    The result is ``Div(s_x) -> MatMul(int W) -> MultiThreshold -> Mul(s_y)``: the MatMul sees
    the integers ``q_x``, weights are the integers of the weight quantizer, and the chain plus
    the output quantizer become per-channel thresholds computed by evaluation
    (flows/thresholds.py). Channels the chain makes decreasing get negated weights. A MatMul
    whose chain ends in no quantizer (the last layer) becomes ``Div(s_x) -> MatMul(int W) ->
    Mul(s_x * s_w)`` and its chain stays as it is, for the host tail. Every check (including
    the threshold evaluation, which can reject a chain) runs before the graph is changed.

    Requires: cleaned graph (flows.frontend.import_model), Gemm lowered to MatMul.
    Ensures: every MatMul multiplies integer tensors (datatype-annotated) by integer
    initializers; no Quant remains on weights; thresholded activations are MultiThreshold.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        # Last layer first: each layer reads its input quantizer before the layer in front of
        # it is rewritten (that rewrite replaces the quantizer by MultiThreshold + Mul).
        for mm in reversed(model.get_nodes_by_op_type("MatMul")):
            wq_node = model.find_producer(mm.input[1])
            if not is_quantizer(wq_node):
                continue  # already integer
            operands = _check_operands(model, mm, wq_node)
            chain = follow_chain(model, mm.output[0])
            if chain.quantizer is None:
                _dequantized_layer(model, mm, operands)
            else:
                _thresholded_layer(model, mm, operands, chain)
            return model.transform(InferShapes()), True
        return model, False


@dataclass(frozen=True)
class _Operands:
    """A MatMul's quantized operands, read and checked without changing the graph."""

    xq_node: NodeProto  # the activation quantizer in front of the MatMul
    xq: Quantizer
    wq_node: NodeProto  # the weight quantizer
    wq: Quantizer
    path: list[NodeProto]  # the ops from xq_node to the MatMul (SCALE_COMMUTING_OPS), nearest last
    w_int: np.ndarray  # integer weights [MW, MH]
    to_float: np.ndarray  # float64 [MH]: accumulator -> the reference's value (s_x * s_w)
    acc_lo: np.ndarray  # exact accumulator bounds per output channel
    acc_hi: np.ndarray


@dataclass(frozen=True)
class _Activation:
    """The thresholds that replace a MatMul's chain and its output quantizer."""

    yq: Quantizer
    res: ThresholdResult
    nchw: bool  # a conv's chain: thresholds run channels last, then a transpose back


def _check_operands(model: ModelWrapper, mm: NodeProto, wq_node: NodeProto) -> _Operands:
    """Read the MatMul's input and weight quantizers and check that the hardware can take
    them: symmetric, a per-tensor input scale, 2-D weights, an accumulator that fits."""
    xq_node, path = _layout_path(model, mm.input[0])
    if not is_activation_quantizer(xq_node):
        hint = ""
        if xq_node is None:  # the chain starts at the graph input
            hint = (
                "; the float graph input goes straight into it, as in hls4ml/QKeras models: "
                "give the input a fixed-point type with --input-fixed W,I (e.g. 16,6, "
                "hls4ml's default ap_fixed<16,6>)"
            )
        raise UnsupportedError(
            f"node '{mm.name}': its input does not come from an activation quantizer; "
            "bitfab needs a Quant/BipolarQuant (Brevitas QuantIdentity) before every layer" + hint
        )
    xq = read_quantizer(model, xq_node)
    wq = read_quantizer(model, wq_node)
    if np.any(xq.zeropt != 0) or np.any(wq.zeropt != 0):
        raise UnsupportedError(
            f"node '{mm.name}': a non-zero zero point feeds this MatMul; the hardware "
            "has no zero-point correction; quantize symmetrically (zero_point=0)"
        )
    w_int = quantized_weight_integers(model, wq_node, wq)
    if w_int.ndim != 2:
        raise UnsupportedError(f"node '{mm.name}': weights of shape {w_int.shape} are not 2-D")
    mw, mh = w_int.shape
    s_w = weight_scale_per_channel(wq.scale, mw, mh, wq_node.name)
    to_float = _input_scale(xq, w_int, mm) * s_w.astype(np.float64)
    acc_lo, acc_hi = accumulator_bounds(w_int, xq.qmin, xq.qmax)
    acc_bits = signed_type_holding(int(acc_lo.min()) - 1, int(acc_hi.max()) + 1).bitwidth()
    if acc_bits > MAX_ACC_BITS:
        raise UnsupportedError(
            f"node '{mm.name}': the accumulator needs {acc_bits} bits for {xq.dtype.name} "
            f"inputs, {wq.dtype.name} weights and {mw} terms; at most {MAX_ACC_BITS} are "
            "supported: use narrower weights or activations"
        )
    _check_layout_path(model, xq, path)
    return _Operands(xq_node, xq, wq_node, wq, path, w_int, to_float, acc_lo, acc_hi)


def _layout_path(model: ModelWrapper, tensor: str) -> tuple[NodeProto | None, list[NodeProto]]:
    """The producer behind ``tensor`` through SCALE_COMMUTING_OPS, and those ops (nearest
    last): the ops the input's ``Div(s_x)`` moves in front of."""
    path = []
    node = model.find_producer(tensor)
    while node is not None and node.op_type in SCALE_COMMUTING_OPS:
        path.insert(0, node)
        node = model.find_producer(node.input[0])
    return node, path


def _check_layout_path(model: ModelWrapper, xq: Quantizer, path: list[NodeProto]) -> None:
    """The integers may take the path only if it commutes with the input scale and feeds
    nothing else (another reader would get integers instead of the reference's floats)."""
    if any(n.op_type in MONOTONE_OPS for n in path) and np.any(xq.scale <= 0):
        raise UnsupportedError(
            f"node '{xq.node_name}': MaxPool/Relu after a non-positive scale cannot be moved "
            "into the integer domain"
        )
    for n in path:
        if len(model.find_consumers(n.output[0])) != 1:
            raise UnsupportedError(f"node '{n.name}': its output feeds several nodes")


def _activation_thresholds(
    model: ModelWrapper, mm: NodeProto, ops: _Operands, chain: Chain
) -> _Activation:
    """The thresholds for the chain after ``mm`` and its output quantizer, found by evaluating
    them (flows/thresholds.py). Runs before the graph changes: it can reject the chain."""
    yq = read_quantizer(model, chain.quantizer)
    if np.any(yq.zeropt != 0):
        raise UnsupportedError(f"node '{yq.node_name}': activation zero points are not supported")
    if yq.bits > MAX_ACT_BITS:
        raise UnsupportedError(
            f"node '{yq.node_name}': a {yq.bits}-bit activation needs {len(yq.levels()) - 1} "
            f"thresholds per channel; at most {MAX_ACT_BITS}-bit activations are supported"
        )
    # A conv's MatMul is channels last; its chain starts by transposing back to NCHW, which
    # on a [K, C, 1, 1] probe is the identity: evaluate the rest of the chain.
    lead = chain.nodes[0] if chain.nodes else None
    nchw = is_transpose(lead, TO_NCHW)
    mh = ops.w_int.shape[1]
    ev = ChainEvaluator(
        model=model,
        nodes=chain.nodes[1:] if nchw else chain.nodes,
        quantizer_node=chain.quantizer,
        quant=yq,
        in_tensor=lead.output[0] if nchw else mm.output[0],
        channels=mh,
        to_float=ops.to_float,
        layout_shape=(mh, 1, 1) if nchw else None,
    )
    res = compute_thresholds(ev, ops.acc_lo, ops.acc_hi, f"node '{mm.name}'")
    return _Activation(yq, res, nchw)


def _thresholded_layer(model: ModelWrapper, mm: NodeProto, ops: _Operands, chain: Chain) -> None:
    """``MatMul -> chain -> Quant_y`` becomes ``MatMul(int W) -> MultiThreshold -> Mul(s_y)``
    (with the transpose back to NCHW after a conv's thresholds)."""
    act = _activation_thresholds(model, mm, ops, chain)
    x_int = _integerize_input(model, mm, ops)
    acc = model.make_new_valueinfo_name()
    w_name = model.make_new_valueinfo_name()
    w_int = np.where(act.res.negate[None, :], -ops.w_int, ops.w_int)
    matmul = helper.make_node("MatMul", [x_int, w_name], [acc], name=mm.name)
    activation = _threshold_nodes(model, mm, act, acc, chain.quantizer.output[0])
    for n in activation[:-1]:  # MultiThreshold (and the transpose back): integers
        model.set_tensor_datatype(n.output[0], act.yq.dtype)
    old = [mm, ops.wq_node, *chain.nodes, chain.quantizer]
    _place_layer(model, ops, w_int, w_name, acc, old, [matmul, *activation])


def _threshold_nodes(
    model: ModelWrapper, mm: NodeProto, act: _Activation, acc: str, out: str
) -> list[NodeProto]:
    """``MultiThreshold [-> Transpose(to NCHW)] -> Mul(s_y)`` from ``acc`` to ``out``."""
    t_name = model.make_new_valueinfo_name()
    # float64: thresholds are exact integers beyond float32's 2^24
    model.set_initializer(t_name, act.res.thresholds.astype(np.float64))
    y_int = model.make_new_valueinfo_name()
    nodes = [
        helper.make_node(
            "MultiThreshold",
            [acc, t_name],
            [y_int],
            domain="qonnx.custom_op.general",
            name=mm.name + "_thresholds",
            out_dtype=act.yq.dtype.name,
            out_scale=float(act.res.out_step),
            out_bias=float(act.res.out_bias),
            ref_tensor=out,
            data_layout="NHWC" if act.nchw else "",
        )
    ]
    if act.nchw:  # back to the graph's NCHW, as the removed chain did
        y_nchw = model.make_new_valueinfo_name()
        nodes.append(
            helper.make_node(
                "Transpose", [y_int], [y_nchw], perm=list(TO_NCHW), name=mm.name + "_nchw"
            )
        )
        y_int = y_nchw
    s_y_name = model.make_new_valueinfo_name()
    scale_y = act.yq.scale.astype(np.float32)
    if act.nchw and scale_y.size > 1:
        scale_y = scale_y.reshape(1, -1, 1, 1)
    model.set_initializer(s_y_name, scale_y)
    nodes.append(helper.make_node("Mul", [y_int, s_y_name], [out], name=mm.name + "_to_float"))
    return nodes


def _dequantized_layer(model: ModelWrapper, mm: NodeProto, ops: _Operands) -> None:
    """A MatMul with no quantizer after it becomes ``MatMul(int W) -> Mul(s_x * s_w)``; its
    chain stays as it is, for the host tail."""
    x_int = _integerize_input(model, mm, ops)
    acc = model.make_new_valueinfo_name()
    w_name = model.make_new_valueinfo_name()
    matmul = helper.make_node("MatMul", [x_int, w_name], [acc], name=mm.name)
    c_name = model.make_new_valueinfo_name()
    model.set_initializer(c_name, ops.to_float.astype(np.float32).reshape(1, -1))
    dequant = helper.make_node("Mul", [acc, c_name], [mm.output[0]], name=mm.name + "_dequant")
    # provenance for verification: which reference tensor this accumulator scales to
    refs = json.loads(model.get_metadata_prop("bitfab.acc_ref") or "{}")
    refs[acc] = {"ref": mm.output[0], "scale": ops.to_float.tolist()}
    model.set_metadata_prop("bitfab.acc_ref", json.dumps(refs))
    model.set_tensor_datatype(mm.output[0], DataType["FLOAT32"])
    _place_layer(model, ops, ops.w_int, w_name, acc, [mm, ops.wq_node], [matmul, dequant])


def _place_layer(
    model: ModelWrapper,
    ops: _Operands,
    w_int: np.ndarray,
    w_name: str,
    acc: str,
    old: list[NodeProto],
    new: list[NodeProto],
) -> None:
    """Store the integer weights, annotate the weights and the accumulator, swap the nodes."""
    model.set_initializer(w_name, w_int.astype(np.float32))
    model.set_tensor_datatype(w_name, _weight_dtype(ops.wq, w_int))
    # from the weights as stored: a negated (decreasing) channel's sums span the negated
    # range, which an asymmetric input type (INT3: -4 .. 3) can make one value wider
    lo, hi = accumulator_bounds(w_int, ops.xq.qmin, ops.xq.qmax)
    model.set_tensor_datatype(acc, signed_type_holding(int(lo.min()), int(hi.max())))
    replace_nodes(model, old, new)


def _input_scale(xq: Quantizer, w_int: np.ndarray, mm: NodeProto) -> np.ndarray:
    """The input scale each output channel's accumulator carries, float64 [MH].

    A per-tensor scale is shared. A per-channel one (MobileNet's pointwise activations) can
    only be factored out of a product whose every output reads a single input channel: a
    depthwise conv's channel-diagonal weights (input element i of the (ky, kx, c) window is
    channel i mod C, and output o reads channel o only)."""
    mw, mh = w_int.shape
    if xq.scale.size == 1:
        return np.full(mh, np.float64(xq.scale.ravel()[0]))
    rows = np.arange(mw)[:, None] % mh
    diagonal = xq.scale.size == mh and not np.any((w_int != 0) & (rows != np.arange(mh)))
    if not diagonal:
        raise UnsupportedError(
            f"node '{xq.node_name}': per-channel activation scales before MatMul "
            f"'{mm.name}' are supported only into a depthwise conv; use a per-tensor "
            "activation scale (scaling_per_output_channel=False)"
        )
    return xq.scale.ravel().astype(np.float64)


def _integerize_input(model: ModelWrapper, mm: NodeProto, ops: _Operands) -> str:
    """Insert ``Div(s_x)`` right after the quantizer so the layout ops in front of the MatMul
    (transposes, sliding window, pooling) carry the integers; returns the MatMul's input."""
    q_out = ops.xq_node.output[0]
    first = ops.path[0] if ops.path else mm
    x_int = model.make_new_valueinfo_name()
    s_x = model.make_new_valueinfo_name()
    # per tensor, or per channel in the quantizer's own broadcast shape (NCHW)
    scale = ops.xq.scale if ops.xq.scale.size > 1 else ops.xq.scale.reshape(())
    model.set_initializer(s_x, scale.astype(np.float32))
    div = helper.make_node("Div", [q_out, s_x], [x_int], name=mm.name + "_to_int")
    first.input[0] = x_int
    model.graph.node.insert(list(model.graph.node).index(first), div)
    model.set_tensor_datatype(x_int, ops.xq.dtype)
    model.set_tensor_shape(x_int, model.get_tensor_shape(q_out))
    for n in ops.path:
        model.set_tensor_datatype(n.output[0], ops.xq.dtype)
    return mm.input[0]


def _weight_dtype(wq: Quantizer, w_int: np.ndarray) -> DataType:
    """Datatype of the (possibly negated) integer weights: the quantizer's, widened if needed."""
    if wq.bipolar:
        return BIPOLAR
    dt = wq.dtype
    lo, hi = int(w_int.min()), int(w_int.max())
    if dt.allowed(lo) and dt.allowed(hi):
        return dt
    return signed_type_holding(lo, hi)
