"""SlidingWindow as a qonnx CustomOp (the ONNX edge)."""

from __future__ import annotations

import numpy as np

from flows.layers.base import DataflowOp
from flows.layers.sliding_window import ref
from flows.layers.sliding_window.spec import SlidingWindowSpec


class SlidingWindow(DataflowOp):
    ATTRS = {
        "IFMChannels": ("i", True, 0),
        "IFMDim": ("ints", True, []),  # H, W
        "ConvKernelDim": ("ints", True, []),
        "Stride": ("ints", True, []),
        "Pads": ("ints", False, [0, 0, 0, 0]),  # top, left, bottom, right
        "SIMD": ("i", False, 1),
        "dtype": ("s", True, ""),
    }

    def spec(self) -> SlidingWindowSpec:
        g = self.get_nodeattr
        h, w = g("IFMDim")
        kh, kw = g("ConvKernelDim")
        sh, sw = g("Stride")
        return SlidingWindowSpec(
            self.onnx_node.name,
            g("IFMChannels"),
            h,
            w,
            kh,
            kw,
            sh,
            sw,
            tuple(g("Pads")),
            g("SIMD"),
            self.dtype_attr("dtype"),
        )

    def make_shape_compatible_op(self, model):
        s = self.spec()
        shape = model.get_tensor_shape(self.onnx_node.input[0])
        n = shape[0] if shape else 1
        return super().make_const_shape_op([n, s.ofm_h, s.ofm_w, s.k_h * s.k_w * s.ifm_ch])

    def execute_node(self, context, graph):
        x = context[self.onnx_node.input[0]]
        context[self.onnx_node.output[0]] = ref.sliding_window(x, self.spec()).astype(np.float32)
