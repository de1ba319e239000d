"""Residual adds on integers: the sum of two equally scaled quantized paths, then thresholds."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.datatypes import integer_type_holding
from flows.dyadic import scaled_sum
from flows.errors import UnsupportedError
from flows.graph import TO_NCHW, is_transpose
from flows.layers.add.spec import MAX_SUM_BITS, sum_bounds
from flows.passes.infer_shapes import InferShapes
from flows.passes.input_quant_to_thresholds import (
    Head,
    find_head,
    thresholds_on_accelerator,
)
from flows.quantizers import read_quantizer
from flows.thresholds import ChainEvaluator, compute_thresholds


class IntegerResidualAdd(Transformation):
    """``Add(Mul(ia, sa), Mul(ib, sb)) -> [affine/BN/Relu] -> Quant`` (Brevitas' residual add of
    two quantized paths) becomes ``Add(ka*ia, kb*ib) -> MultiThreshold -> Mul(s_out)``: an
    exact integer sum, then the add's requantization as thresholds computed by evaluating the
    graph's own ops on that sum.

    Paths sharing a scale (as bnn_pynq's QuantResNet and FINN require) are added as they are
    (``ka = kb = 1``). Paths of different scales are put on their largest common float32 unit
    ``s`` with the smallest integer multipliers (``flows.dyadic``: ``sa = ka*s``,
    ``sb = kb*s`` exactly), as ``Mul(i, k)`` nodes that InferAdd folds into the StreamAdd. The
    thresholds see the sum as ``float32(z * s)`` (scaled in float64, rounded once), the exact
    sum the float32 reference approximates; verification re-checks the reference's own
    rounding of ``sa*ia + sb*ib`` (``flows.exact_ops``). Sums wider than 32 bits, and
    per-channel scales in a ratio that differs between channels, are refused.

    Both paths are summed channels last when they arrive through transposes from layers that
    run channels last.

    Requires: AbsorbIntoThresholds applied (each path ends in a layer's ``Mul(s)`` dequant).
    Ensures: every such Add is an integer Add of two integer tensors (each maybe through a
    ``Mul`` by a constant integer) followed by thresholds; outputs equal (exactly, for the
    integers the paths carry; sums beyond 2^24 only in the dataflow layers' float64).
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in list(model.graph.node):
            if node.op_type != "Add" or _paths(model, node) is None:
                continue
            isum, sdt, scale = _sum_integers(model, node)
            model = model.transform(InferShapes())
            _requantize(model, isum, sdt, scale, f"node '{node.name}'")
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
    # an integer sum already: this pass's own, its paths through multipliers k >= 2; two paths
    # dequantized at scale 1 are integer-typed too (qonnx types a Quant of scale 1 so), and
    # are still to be lowered
    unit = any(np.all(s == 1) for _, s in (a, b))
    if model.get_tensor_datatype(add.output[0]).is_integer() and not unit:
        return None
    return a, b


def _sum_integers(model: ModelWrapper, add: NodeProto):
    """Replace the float add by ``Mul(Add(ka*ia, kb*ib), s)``; the integer sum's name, type
    and scale ``s``."""
    (ia, sa), (ib, sb) = _paths(model, add)
    where = f"node '{add.name}'"
    sha, shb = model.get_tensor_shape(ia), model.get_tensor_shape(ib)
    if list(sha) != list(shb):
        raise UnsupportedError(
            f"{where}: adds a {list(sha)} tensor to a {list(shb)} tensor; a residual add needs "
            "both paths in one shape (give the skip path a 1x1 conv with the main path's stride "
            "and channels)"
        )
    ss = scaled_sum(sa, sb, where)
    adt, bdt = model.get_tensor_datatype(ia), model.get_tensor_datatype(ib)
    lo, hi = sum_bounds(adt, bdt, ss.ka, ss.kb)
    sdt = integer_type_holding(lo, hi)
    if sdt.bitwidth() > MAX_SUM_BITS:
        raise UnsupportedError(
            f"{where}: a residual add of two paths with scales {_show(sa)} and {_show(sb)}: "
            f"their exact integer sum {ss.ka}*a + {ss.kb}*b ({lo} .. {hi}) needs "
            f"{sdt.bitwidth()} bits, more than the {MAX_SUM_BITS} bits bitfab adds in; end both "
            "paths with one shared quantizer (in Brevitas, one QuantReLU/QuantIdentity, as "
            "bnn_pynq's QuantResNet does) or with scales in a small ratio (power-of-two "
            "scales, e.g. Brevitas' *FixedPoint quantizers)"
        )
    # channels last when both paths come from layers that run channels last
    ta, tb = (model.find_producer(t) for t in (ia, ib))
    nhwc = all(t is not None and is_transpose(t, TO_NCHW) for t in (ta, tb))
    new, isum = [], model.make_new_valueinfo_name()
    xa, xb = (ta.input[0], tb.input[0]) if nhwc else (ia, ib)
    xa, xb = (_multiply(model, x, k, dt, new) for x, k, dt in ((xa, ss.ka, adt), (xb, ss.kb, bdt)))
    if nhwc:
        inner = model.make_new_valueinfo_name()
        new.append(helper.make_node("Add", [xa, xb], [inner], name=add.name))
        new.append(helper.make_node("Transpose", [inner], [isum], perm=list(TO_NCHW)))
        model.set_tensor_datatype(inner, sdt)
    else:
        new.append(helper.make_node("Add", [xa, xb], [isum], name=add.name))
    s_name = model.make_new_valueinfo_name()
    model.set_initializer(s_name, ss.scale)
    new.append(helper.make_node("Mul", [isum, s_name], [add.output[0]], name=add.name + "_scale"))
    idx = list(model.graph.node).index(add)
    model.graph.node.remove(add)
    for i, n in enumerate(new):
        model.graph.node.insert(idx + i, n)
    model.set_tensor_datatype(isum, sdt)
    for t in (add.input[0], add.input[1]):  # what only fed the float add goes
        _remove_dead(model, t)
    return isum, sdt, ss.scale


def _multiply(model: ModelWrapper, x: str, k: int, dt, new: list) -> str:
    """``x`` itself for ``k = 1``, else a new ``Mul(x, k)`` (appended to ``new``) typed to hold
    every product. ``k`` is an odd number below 2^24 times a power of two: exact in float32."""
    if k == 1:
        return x
    k_name, out = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
    model.set_initializer(k_name, np.array(k, np.float32))
    new.append(helper.make_node("Mul", [x, k_name], [out], name=f"{x}_times_{k}"))
    model.set_tensor_datatype(out, integer_type_holding(*sum_bounds(dt, dt, k, 0)))
    return out


def _requantize(model: ModelWrapper, isum: str, sdt, scale: np.ndarray, where: str) -> None:
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
    res = _sum_thresholds(model, head, q, sdt, scale)
    if np.any(res.negate):
        raise UnsupportedError(
            f"{where}: the requantization after the residual add decreases with the sum (a "
            "negative scale); bitfab's thresholds count upwards"
        )
    thresholds_on_accelerator(model, head, q, res, sdt)


def _sum_thresholds(model: ModelWrapper, head: Head, q, sdt, scale: np.ndarray):
    """Thresholds over the integer sum ``z``: the graph's chain after the ``Mul(s)`` evaluated
    on ``float32(z * s)``, ``z * s`` taken in float64 (exact for sums below 2^29) and rounded
    once, as the reference rounds an exact float32 product."""
    mul, rest = head.chain.nodes[0], head.chain.nodes[1:]
    ev = ChainEvaluator(
        model=model,
        nodes=rest,
        quantizer_node=head.chain.quantizer,
        quant=q,
        in_tensor=mul.output[0],
        channels=head.channels,
        to_float=np.broadcast_to(np.asarray(scale, np.float64).ravel(), (head.channels,)),
        layout_shape=(head.channels, 1, 1) if head.nchw else None,
    )
    lo = np.full(head.channels, int(sdt.min()), np.int64)
    hi = np.full(head.channels, int(sdt.max()), np.int64)
    return compute_thresholds(ev, lo, hi, f"node '{head.chain.quantizer.name}'")


def _remove_dead(model: ModelWrapper, tensor: str) -> None:
    """Remove the producers of ``tensor`` back through nodes that nothing else reads."""
    node = model.find_producer(tensor)
    while node is not None and not model.find_consumers(node.output[0]):
        model.graph.node.remove(node)
        node = model.find_producer(node.input[0])


def _show(s: np.ndarray) -> str:
    return f"{float(s.flat[0]):g}" if s.size == 1 else f"{s.size} per-channel values"
