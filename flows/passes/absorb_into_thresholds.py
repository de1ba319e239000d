"""Integerize MatMul layers and absorb what follows them into thresholds."""

from __future__ import annotations

import json

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

from flows.chains import follow_chain
from flows.datatypes import BIPOLAR, signed_type_holding
from flows.errors import UnsupportedError
from flows.layers.mvau.requant import accumulator_bounds
from flows.quantizers import is_quantizer, quantized_weight_integers, read_quantizer
from flows.thresholds import ChainEvaluator, compute_thresholds


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


MAX_ACC_BITS = 32  # widest accumulator the MVAU kernel holds
MAX_ACT_BITS = 12  # 4095 thresholds per channel; wider activations are impractical


class AbsorbIntoThresholds(Transformation):
    """Turn ``Quant_x -> MatMul(Quant_w) -> chain -> Quant_y`` into an integer layer.

    The result is ``Div(s_x) -> MatMul(int W) -> MultiThreshold -> Mul(s_y)``: the MatMul sees
    the integers ``q_x``, weights are the integers of the weight quantizer, and the chain plus
    the output quantizer become per-channel thresholds computed by evaluation
    (flows/thresholds.py). Channels the chain makes decreasing get negated weights. A MatMul
    whose chain ends in no quantizer (the last layer) becomes ``Div(s_x) -> MatMul(int W) ->
    Mul(s_x * s_w)`` and its chain stays as it is, for the host tail.

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
            self._lower(model, mm, wq_node)
            return model.transform(InferShapes()), True
        return model, False

    def _lower(self, model: ModelWrapper, mm, wq_node) -> None:
        graph = model.graph
        xq_node = _quantizer_behind_layout_ops(model, mm.input[0])
        if not is_quantizer(xq_node):
            raise UnsupportedError(
                f"node '{mm.name}': its input does not come from an activation quantizer; "
                "bitfab needs a Quant/BipolarQuant (Brevitas QuantIdentity) before every layer"
            )
        xq = read_quantizer(model, xq_node)
        wq = read_quantizer(model, wq_node)
        if np.any(xq.zeropt != 0) or np.any(wq.zeropt != 0):
            raise UnsupportedError(
                f"node '{mm.name}': a non-zero zero point feeds this MatMul; the hardware "
                "has no zero-point correction; quantize symmetrically (zero_point=0)"
            )
        if xq.scale.size != 1:
            raise UnsupportedError(
                f"node '{xq.node_name}': per-channel activation scales before MatMul "
                f"'{mm.name}' are not supported; use a per-tensor activation scale"
            )
        w_int = quantized_weight_integers(model, wq_node, wq)
        if w_int.ndim != 2:
            raise UnsupportedError(f"node '{mm.name}': weights of shape {w_int.shape} are not 2-D")
        mw, mh = w_int.shape
        s_w = weight_scale_per_channel(wq.scale, mw, mh, wq_node.name)
        to_float = np.float64(xq.scale.ravel()[0]) * s_w.astype(np.float64)
        xlo, xhi = xq.qmin, xq.qmax
        acc_lo, acc_hi = accumulator_bounds(w_int, xlo, xhi)
        acc_bits = signed_type_holding(int(acc_lo.min()) - 1, int(acc_hi.max()) + 1).bitwidth()
        if acc_bits > MAX_ACC_BITS:
            raise UnsupportedError(
                f"node '{mm.name}': the accumulator needs {acc_bits} bits for {xq.dtype.name} "
                f"inputs, {wq.dtype.name} weights and {mw} terms; at most {MAX_ACC_BITS} are "
                "supported: use narrower weights or activations"
            )
        chain = follow_chain(model, mm.output[0])

        x_int = _integerize_input(model, mm, xq_node, xq)
        idx = list(graph.node).index(mm)
        new = []
        acc = model.make_new_valueinfo_name()
        w_name = model.make_new_valueinfo_name()
        if chain.quantizer is not None:
            yq = read_quantizer(model, chain.quantizer)
            if np.any(yq.zeropt != 0):
                raise UnsupportedError(
                    f"node '{yq.node_name}': activation zero points are not supported"
                )
            n_thres = len(yq.levels()) - 1
            if yq.bits > MAX_ACT_BITS:
                raise UnsupportedError(
                    f"node '{yq.node_name}': a {yq.bits}-bit activation needs {n_thres} "
                    f"thresholds per channel; at most {MAX_ACT_BITS}-bit activations are "
                    "supported"
                )
            # A conv's MatMul is channels last; its chain starts by transposing back to NCHW,
            # which on a [K, C, 1, 1] probe is the identity: evaluate the rest of the chain.
            lead = chain.nodes[0] if chain.nodes else None
            nchw = lead is not None and lead.op_type == "Transpose" and _perm(lead) == TO_NCHW
            ev_nodes = chain.nodes[1:] if nchw else chain.nodes
            ev_in = lead.output[0] if nchw else mm.output[0]
            ev = ChainEvaluator(
                model,
                ev_nodes,
                chain.quantizer,
                yq,
                ev_in,
                mh,
                n_thres,
                to_float,
                layout_shape=(mh, 1, 1) if nchw else None,
            )
            res = compute_thresholds(ev, acc_lo, acc_hi, f"node '{mm.name}'")
            w_int = np.where(res.negate[None, :], -w_int, w_int)
            t_name = model.make_new_valueinfo_name()
            # float64: thresholds are exact integers beyond float32's 2^24
            model.set_initializer(t_name, res.thresholds.astype(np.float64))
            y_int = model.make_new_valueinfo_name()
            new.append(helper.make_node("MatMul", [x_int, w_name], [acc], name=mm.name))
            new.append(
                helper.make_node(
                    "MultiThreshold",
                    [acc, t_name],
                    [y_int],
                    domain="qonnx.custom_op.general",
                    name=mm.name + "_thresholds",
                    out_dtype=yq.dtype.name,
                    out_scale=float(res.out_step),
                    out_bias=float(res.out_bias),
                    ref_tensor=chain.quantizer.output[0],
                    data_layout="NHWC" if nchw else "",
                )
            )
            if nchw:  # back to the graph's NCHW, as the removed chain did
                y_nchw = model.make_new_valueinfo_name()
                new.append(
                    helper.make_node(
                        "Transpose", [y_int], [y_nchw], perm=list(TO_NCHW), name=mm.name + "_nchw"
                    )
                )
                y_int = y_nchw
            s_y_name = model.make_new_valueinfo_name()
            scale_y = yq.scale.astype(np.float32)
            if nchw and scale_y.size > 1:
                scale_y = scale_y.reshape(1, -1, 1, 1)
            model.set_initializer(s_y_name, scale_y)
            new.append(
                helper.make_node(
                    "Mul",
                    [y_int, s_y_name],
                    [chain.quantizer.output[0]],
                    name=mm.name + "_to_float",
                )
            )
            removed = [mm, wq_node, *chain.nodes, chain.quantizer]
            for n in new[1:-1]:  # MultiThreshold (and the transpose back): integers
                model.set_tensor_datatype(n.output[0], yq.dtype)
        else:
            new.append(helper.make_node("MatMul", [x_int, w_name], [acc], name=mm.name))
            c_name = model.make_new_valueinfo_name()
            model.set_initializer(c_name, to_float.astype(np.float32).reshape(1, mh))
            new.append(
                helper.make_node("Mul", [acc, c_name], [mm.output[0]], name=mm.name + "_dequant")
            )
            removed = [mm, wq_node]
            # provenance for verification: which reference tensor this accumulator scales to
            refs = json.loads(model.get_metadata_prop("bitfab.acc_ref") or "{}")
            refs[acc] = {"ref": mm.output[0], "scale": to_float.tolist()}
            model.set_metadata_prop("bitfab.acc_ref", json.dumps(refs))
            model.set_tensor_datatype(mm.output[0], DataType["FLOAT32"])
        wdt = _weight_dtype(wq, w_int)
        model.set_initializer(w_name, w_int.astype(np.float32))
        model.set_tensor_datatype(w_name, wdt)
        model.set_tensor_datatype(acc, signed_type_holding(int(acc_lo.min()), int(acc_hi.max())))
        for n in removed:
            graph.node.remove(n)
        for i, n in enumerate(new):
            graph.node.insert(idx + i, n)


# Ops that move values without changing them (and MaxPool, which commutes with a positive
# scale): integers pass through them unchanged.
LAYOUT_OPS = ("Reshape", "Flatten", "Identity", "Transpose", "Im2Col", "MaxPool", "Relu")
MONOTONE_OPS = ("MaxPool", "Relu")  # commute with a positive scale only
TO_NCHW = (0, 3, 1, 2)


def _perm(node) -> tuple[int, ...]:
    return tuple(next((a.ints for a in node.attribute if a.name == "perm"), ()))


def _layout_path(model: ModelWrapper, tensor: str) -> tuple[object, list]:
    """The producer behind ``tensor`` through layout ops, and those ops (nearest last)."""
    path = []
    node = model.find_producer(tensor)
    while node is not None and node.op_type in LAYOUT_OPS:
        path.insert(0, node)
        node = model.find_producer(node.input[0])
    return node, path


def _quantizer_behind_layout_ops(model: ModelWrapper, tensor: str):
    """The activation quantizer feeding ``tensor``, looking through layout ops."""
    return _layout_path(model, tensor)[0]


def _integerize_input(model: ModelWrapper, mm, xq_node, xq) -> str:
    """Insert ``Div(s_x)`` right after the quantizer so the layout ops in front of the MatMul
    (transposes, sliding window, pooling) carry the integers; returns the MatMul's input."""
    _, path = _layout_path(model, mm.input[0])
    if any(n.op_type in MONOTONE_OPS for n in path) and np.any(xq.scale <= 0):
        raise UnsupportedError(
            f"node '{xq.node_name}': MaxPool/Relu after a non-positive scale cannot be moved "
            "into the integer domain"
        )
    for n in path:
        if len(model.find_consumers(n.output[0])) != 1:
            raise UnsupportedError(f"node '{n.name}': its output feeds several nodes")
    q_out = xq_node.output[0]
    first = path[0] if path else mm
    x_int = model.make_new_valueinfo_name()
    s_x = model.make_new_valueinfo_name()
    model.set_initializer(s_x, xq.scale.reshape(()).astype(np.float32))
    div = helper.make_node("Div", [q_out, s_x], [x_int], name=mm.name + "_to_int")
    first.input[0] = x_int
    model.graph.node.insert(list(model.graph.node).index(first), div)
    model.set_tensor_datatype(x_int, xq.dtype)
    model.set_tensor_shape(x_int, model.get_tensor_shape(q_out))
    for n in path:
        model.set_tensor_datatype(n.output[0], xq.dtype)
    return mm.input[0]


def _weight_dtype(wq, w_int: np.ndarray):
    """Datatype of the (possibly negated) integer weights: the quantizer's, widened if needed."""
    if wq.bipolar:
        return BIPOLAR
    dt = wq.dtype
    lo, hi = int(w_int.min()), int(w_int.max())
    if dt.allowed(lo) and dt.allowed(hi):
        return dt
    return signed_type_holding(lo, hi)
