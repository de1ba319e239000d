"""StreamAdd as a qonnx CustomOp (the ONNX edge)."""

from __future__ import annotations

import numpy as np
from onnx import helper

from flows.layers.add import ref
from flows.layers.add.spec import AddSpec
from flows.layers.base import DataflowOp


class StreamAdd(DataflowOp):
    ATTRS = {
        "C": ("i", True, 0),
        "pixels": ("i", False, 1),
        "PE": ("i", False, 1),
        "adt": ("s", True, ""),
        "bdt": ("s", True, ""),
        "odt": ("s", True, ""),
        "a_mul": ("i", False, 1),
        "b_mul": ("i", False, 1),
    }
    STREAM_INPUTS = 2
    OUT_DTYPE_ATTR = "odt"

    def spec(self) -> AddSpec:
        g = self.get_nodeattr
        return AddSpec(
            self.onnx_node.name,
            g("C"),
            g("pixels"),
            g("PE"),
            self.dtype_attr("adt"),
            self.dtype_attr("bdt"),
            self.dtype_attr("odt"),
            g("a_mul"),
            g("b_mul"),
        )

    def make_shape_compatible_op(self, model):
        node = self.onnx_node
        return helper.make_node("Add", list(node.input[:2]), [node.output[0]])

    def execute_node(self, context, graph):
        s = self.spec()
        a, b = (np.rint(context[t]) for t in self.onnx_node.input[:2])
        y = ref.add(a, b, s.a_mul, s.b_mul)
        # float32 like every layer's output, unless a sum is beyond float32's exact integers
        # (scaled sums up to 32 bits): then float64, which the thresholds after it read exactly
        big = s.odt.bitwidth() > 24
        context[self.onnx_node.output[0]] = y.astype(np.float64 if big else np.float32)
