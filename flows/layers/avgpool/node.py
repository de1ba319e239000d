"""StreamingAvgPool as a qonnx CustomOp (the ONNX edge)."""

from __future__ import annotations

import numpy as np

from flows.layers.avgpool import ref
from flows.layers.avgpool.spec import AvgPoolSpec
from flows.layers.base import DataflowOp


class StreamingAvgPool(DataflowOp):
    """Input: x (integers, channels last); output: the exact sum of each window (``odt``)."""

    ATTRS = {
        "NumChannels": ("i", True, 0),
        "IFMDim": ("ints", True, []),
        "PoolDim": ("ints", True, []),
        "Stride": ("ints", True, []),
        "PE": ("i", False, 1),
        "idt": ("s", True, ""),
        "odt": ("s", True, ""),
    }
    OUT_DTYPE_ATTR = "odt"

    def spec(self) -> AvgPoolSpec:
        g = self.get_nodeattr
        h, w = g("IFMDim")
        kh, kw = g("PoolDim")
        sh, sw = g("Stride")
        return AvgPoolSpec(
            self.onnx_node.name,
            g("NumChannels"),
            h,
            w,
            kh,
            kw,
            sh,
            sw,
            g("PE"),
            self.dtype_attr("idt"),
            self.dtype_attr("odt"),
        )

    def make_shape_compatible_op(self, model):
        s = self.spec()
        shape = model.get_tensor_shape(self.onnx_node.input[0])
        n = shape[0] if shape else 1
        return super().make_const_shape_op([n, s.ofm_h, s.ofm_w, s.channels])

    def execute_node(self, context, graph):
        x = context[self.onnx_node.input[0]]
        context[self.onnx_node.output[0]] = ref.sumpool(x, self.spec()).astype(np.float32)
