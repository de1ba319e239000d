"""InferAdd: an integer elementwise Add of two streams becomes a StreamAdd."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flows.datatypes import integer_type_holding
from flows.errors import UnsupportedError
from flows.graph import replace_nodes
from flows.layers.add.spec import sum_bounds
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer, pixels


class InferAdd(InferLayer):
    """Requires: IntegerResidualAdd applied (the Add reads the two integer tensors, channels
    last, each possibly through a ``Mul`` by a constant integer that puts the paths on one
    scale). Ensures: each Add of two integer, non-constant tensors of one shape is a
    StreamAdd (taking those multipliers) whose output type holds every sum."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "Add" or any(model.get_initializer(t) is not None for t in node.input):
            return False
        (ta, ma, mul_a), (tb, mb, mul_b) = (_multiplied(model, t) for t in node.input)
        adt, bdt = (model.get_tensor_datatype(t) for t in (ta, tb))
        if not (adt.is_integer() and bdt.is_integer()):
            return False
        sa, sb = (model.get_tensor_shape(t) for t in (ta, tb))
        if list(sa) != list(sb):
            raise UnsupportedError(
                f"node '{node.name}': adds a {list(sa)} tensor to a {list(sb)} tensor; a "
                "residual add needs both paths in one shape (give the skip path a 1x1 conv "
                "with the main path's stride and channels)"
            )
        odt = model.get_tensor_datatype(node.output[0])
        lo, hi = sum_bounds(adt, bdt, ma, mb)
        if not (odt.is_integer() and odt.allowed(lo) and odt.allowed(hi)):
            odt = integer_type_holding(lo, hi)
        new = helper.make_node(
            "StreamAdd",
            [ta, tb],
            [node.output[0]],
            domain=DOMAIN,
            name=node.name,
            C=int(sa[-1]),
            pixels=pixels(sa),
            PE=1,
            adt=adt.name,
            bdt=bdt.name,
            odt=odt.name,
            **({"a_mul": ma, "b_mul": mb} if (ma, mb) != (1, 1) else {}),
        )
        replace_nodes(model, [n for n in (mul_a, mul_b) if n is not None] + [node], [new])
        model.set_tensor_datatype(node.output[0], odt)
        return True


def _multiplied(model: ModelWrapper, tensor: str) -> tuple[str, int, NodeProto | None]:
    """``(x, k, mul)`` when ``tensor`` is ``Mul(x, k)`` of an integer ``x`` by a constant
    integer ``k`` read by nothing else (a multiplier IntegerResidualAdd put there), else
    ``(tensor, 1, None)``."""
    mul = model.find_producer(tensor)
    if mul is None or mul.op_type != "Mul" or len(model.find_consumers(tensor)) != 1:
        return tensor, 1, None
    k = model.get_initializer(mul.input[1])
    if k is None or k.size != 1 or not model.get_tensor_datatype(mul.input[0]).is_integer():
        return tensor, 1, None
    v = float(np.asarray(k).ravel()[0])
    if v != int(v) or v == 0:
        return tensor, 1, None
    return mul.input[0], int(v), mul
