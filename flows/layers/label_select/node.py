"""LabelSelect as a qonnx CustomOp (the ONNX edge)."""

from __future__ import annotations

import numpy as np

from flows.layers.base import DataflowOp
from flows.layers.label_select import ref
from flows.layers.label_select.spec import LabelSelectSpec


class LabelSelect(DataflowOp):
    """Output [N, 1] (``keepdims``, as TopK and ArgMax keepdims=1 give it) or [N]."""

    ATTRS = {
        "Labels": ("i", True, 0),
        "PE": ("i", False, 1),
        "idt": ("s", True, ""),
        "odt": ("s", True, ""),
        "keepdims": ("i", False, 1),
    }
    OUT_DTYPE_ATTR = "odt"

    def spec(self) -> LabelSelectSpec:
        g = self.get_nodeattr
        return LabelSelectSpec(
            self.onnx_node.name,
            g("Labels"),
            g("PE"),
            self.dtype_attr("idt"),
            self.dtype_attr("odt"),
        )

    def make_shape_compatible_op(self, model):
        shape = model.get_tensor_shape(self.onnx_node.input[0])
        n = shape[0] if shape else 1
        return super().make_const_shape_op([n, 1] if self.get_nodeattr("keepdims") else [n])

    def execute_node(self, context, graph):
        x = context[self.onnx_node.input[0]]
        y = ref.label_select(x, bool(self.get_nodeattr("keepdims")))
        context[self.onnx_node.output[0]] = y.astype(np.float32)
