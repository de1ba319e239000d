"""QONNX files made with Brevitas itself: fixed-point (power-of-two) INT8 layers without BN."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import torch
from brevitas.nn import QuantIdentity, QuantLinear, QuantReLU
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8WeightPerTensorFixedPoint,
    Uint8ActPerTensorFixedPoint,
)


def fixed_point_mlp(path: Path, seed: int = 0) -> Path:
    """QuantIdentity(int8) -> QuantLinear(+bias) -> QuantReLU(uint8) -> QuantLinear(+bias)
    -> QuantReLU -> QuantLinear: Brevitas' FixedPoint quantizers, calibrated, exported."""
    from brevitas.export import export_qonnx

    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True),
        QuantLinear(24, 16, bias=True, weight_quant=Int8WeightPerTensorFixedPoint),
        QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        QuantLinear(16, 16, bias=True, weight_quant=Int8WeightPerTensorFixedPoint),
        QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        QuantLinear(16, 10, bias=True, weight_quant=Int8WeightPerTensorFixedPoint),
    )
    net.train()
    with torch.no_grad():  # calibrate the activation statistics
        for _ in range(8):
            net(torch.rand(64, 24) * 2 - 1)
    net.eval()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        export_qonnx(net, torch.rand(1, 24) * 2 - 1, str(path))
    return path
