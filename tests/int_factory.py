"""Hand-built integer MLPs with power-of-two scales and no BatchNorm (Brevitas fixed-point
style: QuantLinear with bias, QuantReLU), whose requantization is a shift."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

Q = "qonnx.custom_op.general"


def shift_mlp(
    seed: int = 0,
    rounding: str = "ROUND",
    bias_step: float = 2.0**-13,
    wbits: int = 8,
    abits: int = 8,
) -> ModelWrapper:
    """x [1,32] in [-1,1] -> Quant 8b (2^-7) -> MatMul (wbits, 2^-6) -> Add bias -> Relu ->
    Quant abits unsigned (2^-4) -> MatMul (4b, 2^-3) -> Add -> Quant 4b signed (2^-2) ->
    MatMul (4b, 2^-3) -> y [1,10]."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def const(name, arr):
        arr = np.asarray(arr, np.float32)
        inits.append(helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.ravel()))
        return name

    def quant(x, out, scale, bits, signed, narrow=0, mode=rounding):
        nodes.append(
            helper.make_node(
                "Quant",
                [
                    x,
                    const(out + "_s", scale),
                    const(out + "_z", 0.0),
                    const(out + "_b", float(bits)),
                ],
                [out],
                domain=Q,
                signed=signed,
                narrow=narrow,
                rounding_mode=mode,
            )
        )
        return out

    def weights(name, shape, bits, scale):
        lim = 2 ** (bits - 1) - 1
        return quant(
            const(name, rng.integers(-lim, lim + 1, shape) * scale),
            name + "q",
            scale,
            bits,
            1,
            1,
            "ROUND",
        )

    x = quant("x", "xq", 2.0**-7, 8, 1)
    nodes.append(helper.make_node("MatMul", [x, weights("w1", (32, 16), wbits, 2.0**-6)], ["m1"]))
    b1 = const("b1", np.round(rng.normal(0, 0.5, 16) / bias_step) * bias_step)
    nodes.append(helper.make_node("Add", ["m1", b1], ["a1"]))
    nodes.append(helper.make_node("Relu", ["a1"], ["r1"]))
    h = quant("r1", "h1", 2.0**-4, abits, 0)
    nodes.append(helper.make_node("MatMul", [h, weights("w2", (16, 12), 4, 2.0**-3)], ["m2"]))
    b2 = const("b2", np.round(rng.normal(0, 0.5, 12) / bias_step) * bias_step)
    nodes.append(helper.make_node("Add", ["m2", b2], ["a2"]))
    h = quant("a2", "h2", 2.0**-2, 4, 1)
    nodes.append(helper.make_node("MatMul", [h, weights("w3", (12, 10), 4, 2.0**-3)], ["y"]))
    graph = helper.make_graph(
        nodes,
        "shift_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        initializer=inits,
    )
    m = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    m = m.transform(InferShapes())
    m.set_metadata_prop("bitfab.input_range", "-1,1")
    return m
