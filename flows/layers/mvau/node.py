"""The MVAU as a qonnx CustomOp: the ONNX edge (attributes <-> MvauSpec, execution -> ref)."""

from __future__ import annotations

import numpy as np
from onnx import helper

from flows.layers.base import DataflowOp
from flows.layers.mvau import ref
from flows.layers.mvau.spec import MvauSpec

# The datatypes, activation and provenance attributes every weighted layer shares (the MVAU
# and the depthwise VVAU): the activation's thresholds or shift, and the reference tensor.
ACTIVATION_ATTRS = {
    "idt": ("s", True, ""),
    "wdt": ("s", True, ""),
    "odt": ("s", True, ""),
    "acc_dt": ("s", True, ""),
    "n_thres": ("i", False, 0),
    "out_bias": ("i", False, 0),
    "out_step": ("i", False, 1),
    "pixels": ("i", False, 1),
    # hardware encoding of the thresholds: "thresholds" or "shift" (see requant.py)
    "requant": ("s", False, "thresholds"),
    "shift": ("i", False, -1),
    "rne": ("i", False, 0),
    # provenance: the reference tensor this layer's integers reproduce
    "ref_tensor": ("s", False, ""),
    "ref_scale": ("floats", False, []),
}


class MVAU(DataflowOp):
    """Inputs: x (integers, [..., MW]), W (integer initializer [MW, MH]), optional T [MH, n]."""

    ATTRS = {
        "MW": ("i", True, 0),
        "MH": ("i", True, 0),
        "SIMD": ("i", False, 1),
        "PE": ("i", False, 1),
        **ACTIVATION_ATTRS,
        # the weight ROM's storage, a folding choice: "auto" or "block" (spec.RAM_STYLES)
        "ram_style": ("s", False, "auto"),
    }
    PARAMS = ("weights", "thresholds")
    OUT_DTYPE_ATTR = "odt"

    def spec(self) -> MvauSpec:
        g = self.get_nodeattr
        return MvauSpec(
            name=self.onnx_node.name,
            mw=g("MW"),
            mh=g("MH"),
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
            ram_style=g("ram_style"),
        )

    def make_shape_compatible_op(self, model):
        # A MatMul with the weights has the MVAU's shape semantics (any batch).
        node = self.onnx_node
        return helper.make_node("MatMul", [node.input[0], node.input[1]], [node.output[0]])

    def execute_node(self, context, graph):
        node = self.onnx_node
        s = self.spec()
        x = np.rint(context[node.input[0]]).astype(np.int64)
        w = context[node.input[1]]
        t = context[node.input[2]] if len(node.input) > 2 else None
        y = ref.mvau(x, w, t, s.out_bias, s.out_step)
        context[node.output[0]] = y.astype(np.float32)
