"""Small hand-built QONNX conv nets (padding, stride, pooling) for the conv path tests."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

Q = "qonnx.custom_op.general"


def small_cnn(seed: int = 0, pad: int = 1, stride: int = 2, pool: int = 2) -> ModelWrapper:
    """x [1,3,12,12] in [-1,1] -> 8-bit Quant -> Conv 3x3 (pad, stride) 4-bit weights -> BN ->
    4-bit unsigned Quant (after Relu) -> MaxPool -> Conv 3x3 bipolar weights -> BN -> 2-bit
    Quant -> Flatten -> MatMul 3-bit weights -> output. Power-of-two scales throughout."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def const(name, arr):
        arr = np.asarray(arr, np.float32)
        inits.append(helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.ravel()))
        return name

    def quant(x, out, scale, bits, signed, narrow=0):
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
                rounding_mode="ROUND",
            )
        )
        return out

    def bn(x, out, c):
        nodes.append(
            helper.make_node(
                "BatchNormalization",
                [
                    x,
                    const(out + "_g", rng.uniform(0.5, 1.5, c) * rng.choice([-1, 1], c)),
                    const(out + "_bb", rng.normal(0, 1, c)),
                    const(out + "_m", rng.normal(0, 2, c)),
                    const(out + "_v", rng.uniform(4, 16, c)),
                ],
                [out],
            )
        )
        return out

    x = quant("x", "xq", 2.0**-7, 8, 1)
    w1 = quant(const("w1", rng.normal(0, 1, (8, 3, 3, 3))), "w1q", 0.25, 4, 1, 1)
    nodes.append(
        helper.make_node(
            "Conv", [x, w1], ["c1"], kernel_shape=[3, 3], pads=[pad] * 4, strides=[stride, stride]
        )
    )
    h = bn("c1", "bn1", 8)
    nodes.append(helper.make_node("Relu", [h], ["r1"]))
    h = quant("r1", "a1", 0.25, 4, 0)
    nodes.append(
        helper.make_node("MaxPool", [h], ["p1"], kernel_shape=[pool, pool], strides=[pool, pool])
    )
    nodes.append(
        helper.make_node(
            "BipolarQuant",
            [const("w2", rng.normal(0, 1, (6, 8, 2, 2))), const("w2s", 1.0)],
            ["w2q"],
            domain=Q,
        )
    )
    nodes.append(helper.make_node("Conv", ["p1", "w2q"], ["c2"], kernel_shape=[2, 2]))
    h = bn("c2", "bn2", 6)
    h = quant(h, "a2", 0.5, 2, 1, 1)
    nodes.append(helper.make_node("Flatten", [h], ["f"], axis=1))
    o1 = (12 + 2 * pad - 3) // stride + 1
    o2 = o1 // pool - 1
    feat = 6 * o2 * o2
    w3 = quant(const("w3", rng.normal(0, 1, (feat, 5))), "w3q", 0.5, 3, 1, 1)
    nodes.append(helper.make_node("MatMul", ["f", w3], ["y"]))
    graph = helper.make_graph(
        nodes,
        "small_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        initializer=inits,
    )
    g = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    g = g.transform(InferShapes())
    g.set_metadata_prop("bitfab.input_range", "-1,1")
    return g
