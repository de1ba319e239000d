"""Thresholding as a qonnx CustomOp (the ONNX edge)."""

from __future__ import annotations

import numpy as np
from onnx import helper

from flows.layers.base import DataflowOp
from flows.layers.thresholding import ref
from flows.layers.thresholding.spec import ThresholdingSpec


class Thresholding(DataflowOp):
    """Inputs: x (integers, channels last), T [C or 1, n]."""

    ATTRS = {
        "C": ("i", True, 0),
        "PE": ("i", False, 1),
        "idt": ("s", True, ""),
        "odt": ("s", True, ""),
        "n_thres": ("i", True, 0),
        "out_bias": ("i", False, 0),
        "out_step": ("i", False, 1),
        "shared": ("i", False, 0),
        "pixels": ("i", False, 1),
        # provenance: the reference tensor this layer's integers reproduce
        "ref_tensor": ("s", False, ""),
    }
    PARAMS = ("thresholds",)
    OUT_DTYPE_ATTR = "odt"

    def spec(self) -> ThresholdingSpec:
        g = self.get_nodeattr
        return ThresholdingSpec(
            name=self.onnx_node.name,
            channels=g("C"),
            pe=g("PE"),
            idt=self.dtype_attr("idt"),
            odt=self.dtype_attr("odt"),
            n_thres=g("n_thres"),
            out_bias=g("out_bias"),
            out_step=g("out_step"),
            shared=bool(g("shared")),
            pixels=g("pixels"),
        )

    def make_shape_compatible_op(self, model):
        node = self.onnx_node
        return helper.make_node("Identity", [node.input[0]], [node.output[0]])

    def execute_node(self, context, graph):
        s = self.spec()
        x = np.rint(context[self.onnx_node.input[0]]).astype(np.int64)
        t = context[self.onnx_node.input[1]]
        y = ref.thresholding(x, t, s.out_bias, s.out_step)
        context[self.onnx_node.output[0]] = y.astype(np.float32)
