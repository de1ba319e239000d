"""InferStreamCopy: put a StreamCopy after every MVAU whose output another layer reads."""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer, pixels
from tests.kinds.copy.node import StreamCopy


class InferStreamCopy(InferLayer):
    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "MVAU" or node.domain != DOMAIN:
            return False
        consumers = model.find_consumers(node.output[0])
        if len(consumers) != 1 or consumers[0].domain != DOMAIN:
            return False
        if consumers[0].op_type == StreamCopy.__name__:
            return False
        t = node.output[0]
        shape = model.get_tensor_shape(t)
        dtype = model.get_tensor_datatype(t)
        new_t = t + "_copied"
        copy = helper.make_node(
            StreamCopy.__name__,
            [t],
            [new_t],
            domain=DOMAIN,
            name=f"Copy_{node.name}",
            C=int(shape[-1]),
            pixels=pixels(shape),
            dtype=dtype.name,
        )
        consumers[0].input[list(consumers[0].input).index(t)] = new_t
        model.graph.node.insert(list(model.graph.node).index(node) + 1, copy)
        model.set_tensor_shape(new_t, shape)
        model.set_tensor_datatype(new_t, dtype)
        return True
