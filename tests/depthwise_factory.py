"""Small nets with a depthwise conv (MobileNet's block): hand-built QONNX and Brevitas-made."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper

from tests.graph_builder import GraphBuilder


def dw_cnn(seed: int = 0, ch: int = 4, pad: int = 1, stride: int = 1) -> ModelWrapper:
    """x [1,C,8,8] in [-1,1] -> 8-bit Quant -> depthwise Conv 3x3 (group=C, 4-bit weights,
    per-channel scales) -> BN -> Relu -> 4-bit unsigned Quant -> pointwise Conv 1x1 to 6
    channels (3-bit weights) -> BN -> 4-bit signed Quant -> Flatten -> MatMul -> output."""
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
                g.const(out + "_m", rng.normal(0, 1, c)),
                g.const(out + "_v", rng.uniform(1, 4, c)),
            ],
            [out],
        )
        return out

    x = g.quant("x", "xq", 2.0**-7, 8, 1)
    w_scale = (2.0 ** -rng.integers(1, 4, ch)).reshape(ch, 1, 1, 1)
    w1 = g.quant(g.const("w1", rng.normal(0, 1, (ch, 1, 3, 3))), "w1q", w_scale, 4, 1, 1)
    g.node(
        "Conv",
        [x, w1],
        ["c1"],
        group=ch,
        kernel_shape=[3, 3],
        pads=[pad] * 4,
        strides=[stride, stride],
    )
    h = bn("c1", "bn1", ch)
    g.node("Relu", [h], ["r1"])
    h = g.quant("r1", "a1", 0.25, 4, 0)
    w2 = g.quant(g.const("w2", rng.normal(0, 1, (6, ch, 1, 1))), "w2q", 0.5, 3, 1, 1)
    g.node("Conv", [h, w2], ["c2"], kernel_shape=[1, 1])
    h = bn("c2", "bn2", 6)
    h = g.quant(h, "a2", 0.5, 4, 1, 1)
    g.node("Flatten", [h], ["f"], axis=1)
    o = (8 + 2 * pad - 3) // stride + 1
    w3 = g.quant(g.const("w3", rng.normal(0, 1, (6 * o * o, 5))), "w3q", 0.5, 3, 1, 1)
    g.node("MatMul", ["f", w3], ["y"])
    return g.model("dw_cnn", "x", [1, ch, 8, 8], "y", [1, 5], "-1,1")


def brevitas_dw_net(path: Path, seed: int = 0, ch: int = 8) -> Path:
    """Brevitas: QuantIdentity(int8) -> QuantConv2d(C, C, 3, groups=C, pad 1, 4-bit weights)
    -> BatchNorm -> QuantReLU(4 bits) -> QuantConv2d 1x1 (C -> 16, 4-bit) -> BatchNorm ->
    QuantReLU(4 bits) -> Flatten -> QuantLinear(-> 10, 4-bit, bias): MobileNet's depthwise-
    separable block and a head, calibrated on random data, exported to QONNX. Fixed-point
    (power-of-two) quantizers, so the float32 reference's last layer rounds nothing."""
    import torch
    from brevitas.export import export_qonnx
    from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear, QuantReLU
    from brevitas.quant import (
        Int8ActPerTensorFixedPoint,
        Int8WeightPerTensorFixedPoint,
        Uint8ActPerTensorFixedPoint,
    )

    wq = {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": 4}
    relu = {"act_quant": Uint8ActPerTensorFixedPoint, "bit_width": 4, "return_quant_tensor": True}

    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True),
        QuantConv2d(ch, ch, 3, groups=ch, padding=1, bias=False, **wq),
        torch.nn.BatchNorm2d(ch),
        QuantReLU(**relu),
        QuantConv2d(ch, 16, 1, bias=False, **wq),
        torch.nn.BatchNorm2d(16),
        QuantReLU(**relu),
        torch.nn.Flatten(),
        QuantLinear(16 * 6 * 6, 10, bias=True, **wq),
    )
    net.train()
    with torch.no_grad():  # calibrate the activation and BN statistics
        for _ in range(8):
            net(torch.rand(16, ch, 6, 6) * 2 - 1)
    net.eval()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        export_qonnx(net, torch.rand(1, ch, 6, 6) * 2 - 1, str(path))
    return path
