"""StreamCopy as a qonnx CustomOp."""

from __future__ import annotations

from onnx import helper

from flows.layers.base import DataflowOp
from tests.kinds.copy import ref
from tests.kinds.copy.spec import CopySpec


class StreamCopy(DataflowOp):
    ATTRS = {
        "C": ("i", True, 0),
        "pixels": ("i", False, 1),
        "PE": ("i", False, 1),
        "dtype": ("s", True, ""),
    }

    def spec(self) -> CopySpec:
        g = self.get_nodeattr
        return CopySpec(self.onnx_node.name, g("C"), g("pixels"), g("PE"), self.dtype_attr("dtype"))

    def make_shape_compatible_op(self, model):
        node = self.onnx_node
        return helper.make_node("Identity", [node.input[0]], [node.output[0]])

    def execute_node(self, context, graph):
        context[self.onnx_node.output[0]] = ref.copy(context[self.onnx_node.input[0]])
