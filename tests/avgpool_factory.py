"""Graphs with a quantized average pool: Brevitas' TruncAvgPool2d/TruncAdaptiveAvgPool2d
conv nets (exported with Brevitas itself) and tiny hand-built QONNX pools."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from tests.passes.util import Net, Q


def brevitas_gap_cnn(path: Path, seed: int = 0, fixed_point: bool = True) -> Path:
    """QuantIdentity(int8) -> QuantConv2d 3x3 -> QuantReLU(4 bit) -> global
    TruncAdaptiveAvgPool2d -> Flatten -> QuantLinear: a conv net ending in a quantized global
    average pool and an FC layer. ``fixed_point``: power-of-two scales (Brevitas'
    FixedPoint quantizers), else Brevitas' default float scales."""
    import torch
    from brevitas.export import export_qonnx
    from brevitas.nn import (
        QuantConv2d,
        QuantIdentity,
        QuantLinear,
        QuantReLU,
        TruncAdaptiveAvgPool2d,
    )
    from brevitas.quant import (
        Int8ActPerTensorFixedPoint,
        Int8WeightPerTensorFixedPoint,
        Uint8ActPerTensorFixedPoint,
    )

    torch.manual_seed(seed)
    fp = fixed_point
    act = {"act_quant": Uint8ActPerTensorFixedPoint} if fp else {}
    wq = {"weight_quant": Int8WeightPerTensorFixedPoint} if fp else {}
    net = torch.nn.Sequential(
        QuantIdentity(
            **({"act_quant": Int8ActPerTensorFixedPoint} if fp else {}), return_quant_tensor=True
        ),
        QuantConv2d(3, 8, 3, bias=False, weight_bit_width=4, **wq),
        QuantReLU(bit_width=4, return_quant_tensor=True, **act),
        TruncAdaptiveAvgPool2d(output_size=1, bit_width=4),
        torch.nn.Flatten(),
        QuantLinear(8, 10, bias=False, weight_bit_width=4, **wq),
    )
    net.train()
    with torch.no_grad():  # calibrate the activation statistics
        for _ in range(8):
            net(torch.rand(16, 3, 6, 6) * 2 - 1)
    net.eval()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        export_qonnx(net, torch.rand(1, 3, 6, 6) * 2 - 1, str(path))
    return path


def quant_avgpool(
    s_x: float = 0.0721,
    bits: int = 4,
    signed: bool = False,
    k: int = 2,
    stride: int = 2,
    hw: int = 4,
    channels: int = 3,
    end: str = "trunc",
    rounding: str = "FLOOR",
    out_bits: int = 4,
    global_pool: bool = False,
) -> ModelWrapper:
    """``Quant(s_x) -> AveragePool (or GlobalAveragePool) -> Trunc`` as Brevitas'
    TruncAvgPool2d exports it (Trunc scale s_x/(k*k), output scale s_x * 2^t so that the
    output keeps ``out_bits``), or ``end="quant"``: ``-> Quant(s_x)`` straight on the
    average, or ``end="mul_quant"``: ``-> Mul(k*k) -> Quant(s_x)`` (a sum pool)."""
    n = Net()
    n.quant("x", "q", s_x, bits, signed)
    kk = hw * hw if global_pool else k * k
    if global_pool:
        n.node("GlobalAveragePool", ["q"], ["avg"])
    else:
        n.node("AveragePool", ["q"], ["avg"], kernel_shape=[k, k], strides=[stride, stride])
    in_bits = bits + int(np.ceil(np.log2(kk)))
    if end == "trunc":
        scale = np.float32(s_x) / np.float32(kk)
        out_scale = np.float32(scale) * np.float32(2.0 ** (in_bits - out_bits))
        ins = [
            "avg",
            n.const("t_scale", scale),
            n.const("t_zeropt", 0.0),
            n.const("t_in_bits", float(in_bits)),
            n.const("t_out_scale", out_scale),
            n.const("t_out_bits", float(out_bits)),
        ]
        n.node("Trunc", ins, ["y"], domain=Q, rounding_mode=rounding, signed=int(signed))
    elif end == "quant":
        n.quant("avg", "y", s_x, out_bits, signed)
    else:
        n.node("Mul", ["avg", n.const("kk", float(kk))], ["sum"])
        n.quant("sum", "y", s_x, out_bits, signed)
    o = 1 if global_pool else (hw - k) // stride + 1
    m = n.model("x", [1, channels, hw, hw], "y", [1, channels, o, o])
    for op in m.model.opset_import:  # Trunc v2 (6 inputs) is qonnx opset 2, as Brevitas exports
        if op.domain == Q:
            op.version = 2
    return m
