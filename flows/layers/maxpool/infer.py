"""InferMaxPool: an integer MaxPoolNHWC becomes a StreamingMaxPool."""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flows.errors import UnsupportedError
from flows.graph import replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer


class InferMaxPool(InferLayer):
    """Requires: MaxPoolToNHWC applied.
    Ensures: each integer MaxPoolNHWC (no padding, floor mode) is a StreamingMaxPool."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "MaxPoolNHWC":
            return False
        dtype = model.get_tensor_datatype(node.input[0])
        if not dtype.is_integer():
            return False
        inst = getCustomOp(node)
        if any(inst.get_nodeattr("pads")) or inst.get_nodeattr("ceil_mode"):
            raise UnsupportedError(
                f"node '{node.name}': MaxPool with padding or ceil_mode is not "
                "supported; supported: no padding, floor mode, any kernel and stride"
            )
        _, h, w, c = model.get_tensor_shape(node.input[0])
        new = helper.make_node(
            "StreamingMaxPool",
            [node.input[0]],
            [node.output[0]],
            domain=DOMAIN,
            name=node.name,
            NumChannels=int(c),
            IFMDim=[int(h), int(w)],
            PoolDim=list(inst.get_nodeattr("kernel_shape")),
            Stride=list(inst.get_nodeattr("strides")),
            PE=1,
            dtype=dtype.name,
        )
        replace_nodes(model, [node], [new])
        return True
