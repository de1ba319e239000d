"""InferStreamReshape: a Reshape/Flatten right after a dataflow layer becomes StreamReshape."""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flows.graph import replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer


class InferStreamReshape(InferLayer):
    """Requires: the producer already a dataflow layer (so the flatten sits inside the design).
    Ensures: the Reshape/Flatten is a StreamReshape with the same output shape."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type not in ("Reshape", "Flatten"):
            return False
        prod = model.find_producer(node.input[0])
        if prod is None or prod.domain != DOMAIN:
            return False
        out_shape = model.get_tensor_shape(node.output[0])
        new = helper.make_node(
            "StreamReshape",
            [node.input[0]],
            [node.output[0]],
            domain=DOMAIN,
            name=node.name,
            out_shape=[int(d) for d in out_shape[1:]],
            dtype=model.get_tensor_datatype(node.input[0]).name,
        )
        replace_nodes(model, [node], [new])
        return True
