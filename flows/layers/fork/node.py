"""StreamFork as a qonnx CustomOp (the ONNX edge)."""

from __future__ import annotations

from onnx import helper

from flows.layers.base import DataflowOp
from flows.layers.fork import ref
from flows.layers.fork.spec import ForkSpec


class StreamFork(DataflowOp):
    ATTRS = {
        "C": ("i", True, 0),
        "pixels": ("i", False, 1),
        "PE": ("i", False, 1),
        "dtype": ("s", True, ""),
    }

    def spec(self) -> ForkSpec:
        g = self.get_nodeattr
        return ForkSpec(self.onnx_node.name, g("C"), g("pixels"), g("PE"), self.dtype_attr("dtype"))

    def make_shape_compatible_op(self, model):
        # the first output stands for both: InsertFork gives the second its shape, the input's
        node = self.onnx_node
        return helper.make_node("Identity", [node.input[0]], [node.output[0]])

    def infer_node_datatype(self, model):
        for t in self.onnx_node.output:
            model.set_tensor_datatype(t, self.dtype_attr("dtype"))

    def execute_node(self, context, graph):
        a, b = ref.fork(context[self.onnx_node.input[0]])
        context[self.onnx_node.output[0]], context[self.onnx_node.output[1]] = a, b
