"""Helpers for the per-pass tests: tiny hand-built graphs, outputs before and after, and
whether a pass left its graph untouched."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

Q = "qonnx.custom_op.general"


class Net:
    """Nodes, constants and Quant nodes by name; ``model()`` names every node uniquely."""

    def __init__(self) -> None:
        self.inits: list = []
        self.nodes: list = []

    def const(self, name: str, arr, dtype=np.float32) -> str:
        arr = np.asarray(arr, dtype)
        tensor_type = helper.np_dtype_to_tensor_dtype(arr.dtype)
        self.inits.append(helper.make_tensor(name, tensor_type, arr.shape, arr.ravel()))
        return name

    def quant(self, x: str, out: str, scale, bits: int, signed: bool, zeropt=0.0) -> str:
        ins = [
            x,
            self.const(out + "_scale", scale),
            self.const(out + "_zeropt", zeropt),
            self.const(out + "_bits", float(bits)),
        ]
        self.node("Quant", ins, [out], domain=Q, signed=int(signed), narrow=0)
        return out

    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]

    def model(self, x: str, in_shape: list[int], y: str, out_shape: list[int]) -> ModelWrapper:
        graph = helper.make_graph(
            self.nodes,
            "net",
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)],
            initializer=self.inits,
        )
        opsets = [helper.make_opsetid("", 13), helper.make_opsetid(Q, 1)]
        m = ModelWrapper(qonnx_make_model(graph, opset_imports=opsets))
        return m.transform(InferShapes()).transform(GiveUniqueNodeNames())


def snapshot(model: ModelWrapper) -> bytes:
    """The whole model, serialized: equal snapshots mean nothing was changed."""
    return model.model.SerializeToString()


def outputs(model: ModelWrapper, xs: np.ndarray) -> list[np.ndarray]:
    iname, oname = model.graph.input[0].name, model.graph.output[0].name
    return [execute_onnx(model, {iname: x[None]})[oname] for x in xs]


def assert_same_outputs(a: ModelWrapper, b: ModelWrapper, xs: np.ndarray) -> None:
    """execute_onnx gives bit-identical outputs (no tolerance) on every sample."""
    for ya, yb in zip(outputs(a, xs), outputs(b, xs), strict=True):
        assert np.array_equal(ya, yb), (ya, yb)


def op_types(model: ModelWrapper) -> list[str]:
    return [n.op_type for n in model.graph.node]
