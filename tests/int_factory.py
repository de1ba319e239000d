"""Hand-built integer MLPs with power-of-two scales and no BatchNorm (Brevitas fixed-point
style: QuantLinear with bias, QuantReLU), whose requantization is a shift."""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from tests.graph_builder import GraphBuilder


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
    g = GraphBuilder(seed)

    def weights(name, shape, bits, scale):
        lim = 2 ** (bits - 1) - 1
        w = g.const(name, g.rng.integers(-lim, lim + 1, shape) * scale)
        return g.quant(w, name + "q", scale, bits, 1, 1, "ROUND")

    def bias(name, n):
        return g.const(name, np.round(g.rng.normal(0, 0.5, n) / bias_step) * bias_step)

    x = g.quant("x", "xq", 2.0**-7, 8, 1, mode=rounding)
    g.node("MatMul", [x, weights("w1", (32, 16), wbits, 2.0**-6)], ["m1"])
    g.node("Add", ["m1", bias("b1", 16)], ["a1"])
    g.node("Relu", ["a1"], ["r1"])
    h = g.quant("r1", "h1", 2.0**-4, abits, 0, mode=rounding)
    g.node("MatMul", [h, weights("w2", (16, 12), 4, 2.0**-3)], ["m2"])
    g.node("Add", ["m2", bias("b2", 12)], ["a2"])
    h = g.quant("a2", "h2", 2.0**-2, 4, 1, mode=rounding)
    g.node("MatMul", [h, weights("w3", (12, 10), 4, 2.0**-3)], ["y"])
    return g.model("shift_mlp", "x", [1, 32], "y", [1, 10], "-1,1")
