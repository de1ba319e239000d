"""The VVAU as a qonnx CustomOp: the ONNX edge (attributes <-> VvauSpec, execution -> ref)."""

from __future__ import annotations

import numpy as np

from flows.layers.base import DataflowOp
from flows.layers.mvau.node import ACTIVATION_ATTRS
from flows.layers.vvau import ref
from flows.layers.vvau.spec import VvauSpec


class VVAU(DataflowOp):
    """Inputs: x (integer windows, [..., K_H*K_W*C] in (ky, kx, c) order), W (integer
    initializer [K_H*K_W, C], column c = channel c's kernel), optional T [C, n]."""

    ATTRS = {
        "Channels": ("i", True, 0),
        "Kernel": ("ints", True, []),  # K_H, K_W
        "SIMD": ("i", False, 1),
        "PE": ("i", False, 1),
        **ACTIVATION_ATTRS,
    }
    PARAMS = ("weights", "thresholds")
    OUT_DTYPE_ATTR = "odt"

    def spec(self) -> VvauSpec:
        g = self.get_nodeattr
        k_h, k_w = g("Kernel")
        return VvauSpec(
            name=self.onnx_node.name,
            ch=g("Channels"),
            k_h=k_h,
            k_w=k_w,
            simd=g("SIMD"),
            pe=g("PE"),
            idt=self.dtype_attr("idt"),
            wdt=self.dtype_attr("wdt"),
            odt=self.dtype_attr("odt"),
            acc_dt=self.dtype_attr("acc_dt"),
            n_thres=g("n_thres"),
            out_bias=g("out_bias"),
            out_step=g("out_step"),
            pixels=g("pixels"),
            requant=g("requant"),
            shift=g("shift"),
            rne=bool(g("rne")),
        )

    def make_shape_compatible_op(self, model):
        shape = list(model.get_tensor_shape(self.onnx_node.input[0]))
        return super().make_const_shape_op([*shape[:-1], self.get_nodeattr("Channels")])

    def execute_node(self, context, graph):
        node = self.onnx_node
        s = self.spec()
        x = np.rint(context[node.input[0]]).astype(np.int64)
        w = context[node.input[1]]
        t = context[node.input[2]] if len(node.input) > 2 else None
        y = ref.vvau(x, w, t, s.out_bias, s.out_step)
        context[node.output[0]] = y.astype(np.float32)
