"""Small hand-built QONNX conv nets (padding, stride, pooling) for the conv path tests."""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper

from tests.graph_builder import GraphBuilder


def small_cnn(seed: int = 0, pad: int = 1, stride: int = 2, pool: int = 2) -> ModelWrapper:
    """x [1,3,12,12] in [-1,1] -> 8-bit Quant -> Conv 3x3 (pad, stride) 4-bit weights -> BN ->
    Relu -> 4-bit unsigned Quant -> MaxPool -> Conv 2x2 bipolar weights -> BN -> 2-bit
    Quant -> Flatten -> MatMul 3-bit weights -> output. Power-of-two scales throughout."""
    g = GraphBuilder(seed)
    rng = g.rng

    def bn(x, out, c):
        gamma = rng.uniform(0.5, 1.5, c) * rng.choice([-1, 1], c)
        g.node(
            "BatchNormalization",
            [
                x,
                g.const(out + "_g", gamma),
                g.const(out + "_bb", rng.normal(0, 1, c)),
                g.const(out + "_m", rng.normal(0, 2, c)),
                g.const(out + "_v", rng.uniform(4, 16, c)),
            ],
            [out],
        )
        return out

    x = g.quant("x", "xq", 2.0**-7, 8, 1)
    w1 = g.quant(g.const("w1", rng.normal(0, 1, (8, 3, 3, 3))), "w1q", 0.25, 4, 1, 1)
    g.node("Conv", [x, w1], ["c1"], kernel_shape=[3, 3], pads=[pad] * 4, strides=[stride, stride])
    h = bn("c1", "bn1", 8)
    g.node("Relu", [h], ["r1"])
    h = g.quant("r1", "a1", 0.25, 4, 0)
    g.node("MaxPool", [h], ["p1"], kernel_shape=[pool, pool], strides=[pool, pool])
    g.node(
        "BipolarQuant",
        [g.const("w2", rng.normal(0, 1, (6, 8, 2, 2))), g.const("w2s", 1.0)],
        ["w2q"],
    )
    g.node("Conv", ["p1", "w2q"], ["c2"], kernel_shape=[2, 2])
    h = bn("c2", "bn2", 6)
    h = g.quant(h, "a2", 0.5, 2, 1, 1)
    g.node("Flatten", [h], ["f"], axis=1)
    o1 = (12 + 2 * pad - 3) // stride + 1
    o2 = o1 // pool - 1
    w3 = g.quant(g.const("w3", rng.normal(0, 1, (6 * o2 * o2, 5))), "w3q", 0.5, 3, 1, 1)
    g.node("MatMul", ["f", w3], ["y"])
    return g.model("small_cnn", "x", [1, 3, 12, 12], "y", [1, 5], "-1,1")
