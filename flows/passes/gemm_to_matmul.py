"""Lower Gemm to MatMul (+ Mul for alpha, + Add for the bias)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.errors import UnsupportedError
from flows.graph import attr, replace_nodes


class GemmToMatMul(Transformation):
    """Rewrite ``Gemm(A, B, C)`` as ``MatMul(A, B')`` followed by the alpha Mul and bias Add.

    qonnx ships a GemmToMatMul, but it only supports opset-9 Gemm with a bias input and fails
    on Brevitas' bias-free opset-20 Gemm; this one handles both. A transposed B becomes a
    Transpose node that ``FoldTransposeIntoQuantInit`` later folds into the weight quantizer.
    Every Gemm is checked before any is rewritten.

    Requires: shapes inferred.
    Ensures: no Gemm node; the float computation is the same op sequence ONNX specifies.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        gemms = model.get_nodes_by_op_type("Gemm")
        for node in gemms:
            _check(model, node)
        for node in gemms:
            replace_nodes(model, [node], _matmul_nodes(model, node))
            out = node.output[0]
            model.set_tensor_datatype(out, None)
            vi = model.get_tensor_valueinfo(out)
            if vi is not None:
                vi.type.tensor_type.elem_type = TensorProto.FLOAT
        return model, False


def _check(model: ModelWrapper, node) -> None:
    """What this lowering cannot express, found before the graph is changed."""
    if attr(node, "transA", 0):
        raise UnsupportedError(
            f"node '{node.name}': Gemm with transA=1 is not supported; export the "
            "layer as Linear/MatMul"
        )
    c = _bias(node)
    if c and float(attr(node, "beta", 1.0)) != 1.0 and model.get_initializer(c) is None:
        raise UnsupportedError(f"node '{node.name}': Gemm with beta != 1 needs a constant bias")


def _bias(node) -> str | None:
    return node.input[2] if len(node.input) > 2 and node.input[2] else None


def _matmul_nodes(model: ModelWrapper, node) -> list:
    """``[Transpose(B)] -> MatMul -> [Mul(alpha)] -> [Add(beta * C)]`` writing the Gemm's
    output; new constants are added to the graph."""
    alpha = float(attr(node, "alpha", 1.0))
    beta = float(attr(node, "beta", 1.0))
    a, b = node.input[0], node.input[1]
    c = _bias(node)
    new_nodes = []
    if attr(node, "transB", 0):
        bt = model.make_new_valueinfo_name()
        new_nodes.append(helper.make_node("Transpose", [b], [bt], name=node.name + "_transpose_b"))
        b = bt
    out = node.output[0]
    mm_out = model.make_new_valueinfo_name() if (alpha != 1.0 or c) else out
    new_nodes.append(helper.make_node("MatMul", [a, b], [mm_out], name=node.name))
    cur = mm_out
    if alpha != 1.0:
        nxt = model.make_new_valueinfo_name() if c else out
        alpha_name = model.make_new_valueinfo_name()
        model.set_initializer(alpha_name, np.asarray(alpha, dtype=np.float32))
        new_nodes.append(
            helper.make_node("Mul", [cur, alpha_name], [nxt], name=node.name + "_alpha")
        )
        cur = nxt
    if c:
        bias = c
        if beta != 1.0:
            bias = model.make_new_valueinfo_name()
            cval = model.get_initializer(c)
            model.set_initializer(bias, (cval * np.float32(beta)).astype(np.float32))
        new_nodes.append(helper.make_node("Add", [cur, bias], [out], name=node.name + "_bias"))
    return new_nodes
