"""InferAdd: an integer elementwise Add of two streams becomes a StreamAdd."""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flows.datatypes import integer_type_holding
from flows.errors import UnsupportedError
from flows.graph import replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer, pixels


class InferAdd(InferLayer):
    """Requires: IntegerResidualAdd applied (the Add reads the two integer tensors, channels
    last). Ensures: each Add of two integer, non-constant tensors of one shape is a
    StreamAdd whose output type holds every sum."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "Add" or any(model.get_initializer(t) is not None for t in node.input):
            return False
        adt, bdt = (model.get_tensor_datatype(t) for t in node.input)
        if not (adt.is_integer() and bdt.is_integer()):
            return False
        sa, sb = (model.get_tensor_shape(t) for t in node.input)
        if list(sa) != list(sb):
            raise UnsupportedError(
                f"node '{node.name}': adds a {list(sa)} tensor to a {list(sb)} tensor; a "
                "residual add needs both paths in one shape (give the skip path a 1x1 conv "
                "with the main path's stride and channels)"
            )
        odt = model.get_tensor_datatype(node.output[0])
        lo = int(adt.min()) + int(bdt.min())
        hi = int(adt.max()) + int(bdt.max())
        if not (odt.is_integer() and odt.allowed(lo) and odt.allowed(hi)):
            odt = integer_type_holding(lo, hi)
        new = helper.make_node(
            "StreamAdd",
            list(node.input),
            [node.output[0]],
            domain=DOMAIN,
            name=node.name,
            C=int(sa[-1]),
            pixels=pixels(sa),
            PE=1,
            adt=adt.name,
            bdt=bdt.name,
            odt=odt.name,
        )
        replace_nodes(model, [node], [new])
        model.set_tensor_datatype(node.output[0], odt)
        return True
