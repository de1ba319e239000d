"""Width converter as a qonnx CustomOp."""

from __future__ import annotations

from onnx import helper

from flows.layers.base import DataflowOp
from flows.layers.dwc import ref
from flows.layers.dwc.spec import DwcSpec


class StreamingDWC(DataflowOp):
    ATTRS = {
        "in_elems": ("i", True, 1),
        "out_elems": ("i", True, 1),
        "dtype": ("s", True, ""),
        "total": ("i", True, 1),
        "reps": ("i", False, 1),
    }

    def spec(self) -> DwcSpec:
        g = self.get_nodeattr
        return DwcSpec(
            self.onnx_node.name,
            g("in_elems"),
            g("out_elems"),
            self.dtype_attr("dtype"),
            g("total"),
            g("reps"),
        )

    def make_shape_compatible_op(self, model):
        node = self.onnx_node
        return helper.make_node("Identity", [node.input[0]], [node.output[0]])

    def execute_node(self, context, graph):
        context[self.onnx_node.output[0]] = ref.dwc(context[self.onnx_node.input[0]])
