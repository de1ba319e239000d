"""A tiny helper for hand-built QONNX test graphs: constants and Quant nodes by name."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

Q = "qonnx.custom_op.general"


class GraphBuilder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.inits: list = []
        self.nodes: list = []

    def const(self, name: str, arr) -> str:
        arr = np.asarray(arr, np.float32)
        self.inits.append(helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.ravel()))
        return name

    def quant(
        self, x: str, out: str, scale, bits: int, signed: int, narrow: int = 0, mode: str = "ROUND"
    ) -> str:
        self.nodes.append(
            helper.make_node(
                "Quant",
                [
                    x,
                    self.const(out + "_s", scale),
                    self.const(out + "_z", 0.0),
                    self.const(out + "_b", float(bits)),
                ],
                [out],
                domain=Q,
                signed=signed,
                narrow=narrow,
                rounding_mode=mode,
            )
        )
        return out

    def node(self, op: str, inputs: list, outputs: list, **attrs) -> None:
        domain = Q if op == "BipolarQuant" else ""
        self.nodes.append(helper.make_node(op, inputs, outputs, domain=domain, **attrs))

    def model(
        self, name: str, x: str, in_shape: list, y: str, out_shape: list, input_range: str
    ) -> ModelWrapper:
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)],
            initializer=self.inits,
        )
        m = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
        m = m.transform(InferShapes())
        m.set_metadata_prop("bitfab.input_range", input_range)
        return m
