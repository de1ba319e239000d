"""The MVAU as a qonnx CustomOp: the ONNX edge (attributes <-> MvauSpec, execution -> ref)."""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.custom_op.base import CustomOp

from flows.layers.common import dt
from flows.layers.mvau import ref
from flows.layers.mvau.spec import MvauSpec


class MVAU(CustomOp):
    """Inputs: x (integers, [..., MW]), W (integer initializer [MW, MH]), optional T [MH, n]."""

    def get_nodeattr_types(self):
        return {
            "MW": ("i", True, 0),
            "MH": ("i", True, 0),
            "SIMD": ("i", False, 1),
            "PE": ("i", False, 1),
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

    def spec(self) -> MvauSpec:
        g = self.get_nodeattr
        return MvauSpec(
            name=self.onnx_node.name,
            mw=g("MW"),
            mh=g("MH"),
            simd=g("SIMD"),
            pe=g("PE"),
            idt=dt(g("idt")),
            wdt=dt(g("wdt")),
            odt=dt(g("odt")),
            acc_dt=dt(g("acc_dt")),
            n_thres=g("n_thres"),
            out_bias=g("out_bias"),
            out_step=g("out_step"),
            pixels=g("pixels"),
            requant=g("requant"),
            shift=g("shift"),
            rne=bool(g("rne")),
        )

    def make_shape_compatible_op(self, model):
        # A MatMul with the weights has the MVAU's shape semantics (any batch).
        node = self.onnx_node
        return helper.make_node("MatMul", [node.input[0], node.input[1]], [node.output[0]])

    def infer_node_datatype(self, model):
        model.set_tensor_datatype(self.onnx_node.output[0], dt(self.get_nodeattr("odt")))

    def execute_node(self, context, graph):
        node = self.onnx_node
        s = self.spec()
        x = np.rint(context[node.input[0]]).astype(np.int64)
        w = context[node.input[1]]
        t = context[node.input[2]] if len(node.input) > 2 else None
        y = ref.mvau(x, w, t, s.out_bias, s.out_step)
        context[node.output[0]] = y.astype(np.float32)

    def verify_node(self):
        self.spec().validate()
        return []


def make_mvau_node(name, inputs, output, spec_kwargs: dict):
    """Build the ONNX node for an MVAU from attribute values (strings for datatypes)."""
    return helper.make_node(
        "MVAU", inputs, [output], domain="flows.layers.custom_ops", name=name, **spec_kwargs
    )
