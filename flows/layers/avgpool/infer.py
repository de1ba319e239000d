"""InferAvgPool: an exact-sum QuantAvgPool2d (channels last) becomes a StreamingAvgPool."""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flows.errors import UnsupportedError
from flows.graph import replace_nodes
from flows.layers.avgpool.spec import sum_dtype
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer


class InferAvgPool(InferLayer):
    """Requires: LowerAveragePool applied (it leaves each pool as an NHWC QuantAvgPool2d whose
    output is the exact window sum, followed by thresholds).
    Ensures: each such QuantAvgPool2d on an integer tensor is a StreamingAvgPool."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "QuantAvgPool2d":
            return False
        idt = model.get_tensor_datatype(node.input[0])
        inst = getCustomOp(node)
        if not idt.is_integer() or inst.get_nodeattr("data_layout") != "NHWC":
            return False
        if inst.get_shifts() != 0:
            raise UnsupportedError(
                f"node '{node.name}': QuantAvgPool2d truncates its window sums by "
                f"{inst.get_shifts()} bits; bitfab maps the exact sum (obits = "
                f"{inst.get_accum_size()}) followed by thresholds, as LowerAveragePool makes it"
            )
        k, stride = inst.get_nodeattr("kernel"), inst.get_nodeattr("stride")
        _, h, w, c = model.get_tensor_shape(node.input[0])
        odt = sum_dtype(idt, k * k)
        new = helper.make_node(
            "StreamingAvgPool",
            [node.input[0]],
            [node.output[0]],
            domain=DOMAIN,
            name=node.name,
            NumChannels=int(c),
            IFMDim=[int(h), int(w)],
            PoolDim=[k, k],
            Stride=[stride, stride],
            PE=1,
            idt=idt.name,
            odt=odt.name,
        )
        replace_nodes(model, [node], [new])
        model.set_tensor_datatype(node.output[0], odt)
        return True
