"""InferSlidingWindow: qonnx's Im2Col on an integer NHWC tensor becomes a SlidingWindow."""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flows.datatypes import BIPOLAR
from flows.errors import UnsupportedError
from flows.graph import replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer


class InferSlidingWindow(InferLayer):
    """Requires: LowerConvToMatMul applied (convolutions are Im2Col + MatMul, NHWC).
    Ensures: each integer Im2Col is a SlidingWindow with the same element order."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "Im2Col":
            return False
        dtype = model.get_tensor_datatype(node.input[0])
        if not dtype.is_integer():
            return False
        inst = getCustomOp(node)
        _, h, w, c = model.get_tensor_shape(node.input[0])
        pt, pl, pb, pr = inst.get_nodeattr("pad_amount")
        if any((pt, pl, pb, pr)) and dtype == BIPOLAR:
            raise UnsupportedError(
                f"node '{node.name}': zero padding of a bipolar (1-bit) activation: the "
                "reference pads with 0, which a bipolar stream (+1/-1) cannot carry; "
                "use pads=0 or a signed activation of 2+ bits before padded convs"
            )
        new = helper.make_node(
            "SlidingWindow",
            [node.input[0]],
            [node.output[0]],
            domain=DOMAIN,
            name=node.name,
            IFMChannels=int(c),
            IFMDim=[int(h), int(w)],
            ConvKernelDim=list(inst.get_nodeattr("kernel_size")),
            Stride=list(inst.get_nodeattr("stride")),
            Pads=[pt, pl, pb, pr],
            SIMD=1,
            dtype=dtype.name,
        )
        replace_nodes(model, [node], [new])
        return True
