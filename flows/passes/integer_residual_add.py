"""Residual adds on integers: the sum of two equally scaled quantized paths, then thresholds."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

from flows.datatypes import integer_type_holding
from flows.errors import UnsupportedError
from flows.graph import TO_NCHW, is_transpose
from flows.passes.input_quant_to_thresholds import (
    find_head,
    head_thresholds,
    thresholds_on_accelerator,
)
from flows.quantizers import read_quantizer


class IntegerResidualAdd(Transformation):
    """``Add(Mul(ia, s), Mul(ib, s)) -> [affine/Relu] -> Quant`` (Brevitas' residual add of two
    QuantTensors that share a scale, as bnn_pynq's QuantResNet and FINN require) becomes
    ``Add(ia, ib) -> MultiThreshold -> Mul(s_out)``: an exact integer sum, then the add's
    requantization as thresholds computed by evaluating the graph's own ops on that sum.

    Both paths are summed channels last when they arrive through transposes from layers that
    run channels last. Paths of different scales are refused (one integer cannot carry both).

    Requires: AbsorbIntoThresholds applied (each path ends in a layer's ``Mul(s)`` dequant).
    Ensures: every such Add is an integer Add of two integer tensors followed by thresholds;
    outputs equal (exactly, for the integers the paths carry).
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in list(model.graph.node):
            if node.op_type != "Add" or _paths(model, node) is None:
                continue
            isum, sdt = _sum_integers(model, node)
            model = model.transform(InferShapes())
            _requantize(model, isum, sdt, f"node '{node.name}'")
            return model.transform(InferShapes()), True
        return model, False


def _dequant(model: ModelWrapper, tensor: str) -> tuple[str, np.ndarray] | None:
    """(integer tensor, scale) when ``tensor`` is ``Mul(integer tensor, constant scale)``."""
    mul = model.find_producer(tensor)
    if mul is None or mul.op_type != "Mul":
        return None
    scale = model.get_initializer(mul.input[1])
    if scale is None or not model.get_tensor_datatype(mul.input[0]).is_integer():
        return None
    return mul.input[0], np.asarray(scale)


def _paths(model: ModelWrapper, add: NodeProto):
    if any(model.get_initializer(t) is not None for t in add.input):
        return None
    a, b = (_dequant(model, t) for t in add.input)
    if a is None or b is None:
        return None
    return a, b


def _sum_integers(model: ModelWrapper, add: NodeProto):
    """Replace the float add by ``Mul(Add(ia, ib), s)``; the integer sum's name and type."""
    (ia, sa), (ib, sb) = _paths(model, add)
    where = f"node '{add.name}'"
    if np.broadcast_shapes(sa.shape, sb.shape) != sa.shape or not np.array_equal(
        np.broadcast_to(sb, sa.shape), sa
    ):
        raise UnsupportedError(
            f"{where}: a residual add of two paths with different scales ({_show(sa)} and "
            f"{_show(sb)}); bitfab adds the integers, so both paths need one scale: end them "
            "with the same quantizer (in Brevitas, one shared QuantReLU/QuantIdentity, as "
            "bnn_pynq's QuantResNet does)"
        )
    sha, shb = model.get_tensor_shape(ia), model.get_tensor_shape(ib)
    if list(sha) != list(shb):
        raise UnsupportedError(
            f"{where}: adds a {list(sha)} tensor to a {list(shb)} tensor; a residual add needs "
            "both paths in one shape (give the skip path a 1x1 conv with the main path's stride "
            "and channels)"
        )
    adt, bdt = model.get_tensor_datatype(ia), model.get_tensor_datatype(ib)
    sdt = integer_type_holding(int(adt.min()) + int(bdt.min()), int(adt.max()) + int(bdt.max()))
    # channels last when both paths come from layers that run channels last
    ta, tb = (model.find_producer(t) for t in (ia, ib))
    nhwc = all(t is not None and is_transpose(t, TO_NCHW) for t in (ta, tb))
    new, isum = [], model.make_new_valueinfo_name()
    if nhwc:
        inner = model.make_new_valueinfo_name()
        new.append(helper.make_node("Add", [ta.input[0], tb.input[0]], [inner], name=add.name))
        new.append(helper.make_node("Transpose", [inner], [isum], perm=list(TO_NCHW)))
        model.set_tensor_datatype(inner, sdt)
    else:
        new.append(helper.make_node("Add", [ia, ib], [isum], name=add.name))
    s_name = model.make_new_valueinfo_name()
    model.set_initializer(s_name, sa.astype(np.float32))
    new.append(helper.make_node("Mul", [isum, s_name], [add.output[0]], name=add.name + "_scale"))
    idx = list(model.graph.node).index(add)
    model.graph.node.remove(add)
    for i, n in enumerate(new):
        model.graph.node.insert(idx + i, n)
    model.set_tensor_datatype(isum, sdt)
    for t in (add.input[0], add.input[1]):  # what only fed the float add goes
        _remove_dead(model, t)
    return isum, sdt


def _requantize(model: ModelWrapper, isum: str, sdt, where: str) -> None:
    """The chain from the integer sum to its quantizer becomes thresholds on the sum."""
    head = find_head(model, isum)
    if head is None:
        raise UnsupportedError(
            f"{where}: what follows the residual add (up to its quantizer) is not a "
            "per-channel monotone chain ending in a Quant; put a QuantReLU/QuantIdentity "
            "after the add"
        )
    q = read_quantizer(model, head.chain.quantizer)
    if np.any(q.zeropt != 0):
        raise UnsupportedError(
            f"{where}: the quantizer after the residual add has a non-zero zero point; "
            "quantize symmetrically (zero_point=0)"
        )
    res = head_thresholds(model, head, q, sdt)
    if np.any(res.negate):
        raise UnsupportedError(
            f"{where}: the requantization after the residual add decreases with the sum (a "
            "negative scale); bitfab's thresholds count upwards"
        )
    thresholds_on_accelerator(model, head, q, res, sdt)


def _remove_dead(model: ModelWrapper, tensor: str) -> None:
    """Remove the producers of ``tensor`` back through nodes that nothing else reads."""
    node = model.find_producer(tensor)
    while node is not None and not model.find_consumers(node.output[0]):
        model.graph.node.remove(node)
        node = model.find_producer(node.input[0])


def _show(s: np.ndarray) -> str:
    return f"{float(s.flat[0]):g}" if s.size == 1 else f"{s.size} per-channel values"
