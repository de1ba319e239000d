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


def _calibrate_and_export(net, shape: tuple[int, ...], path: Path, batch: int = 16) -> None:
    """Set ``net``'s BN and activation statistics from 8 batches of inputs in [-1, 1), then
    export it to QONNX at batch 1 (Brevitas' and torch's chatter silenced)."""
    from brevitas.export import export_qonnx

    net.train()
    with torch.no_grad():
        for _ in range(8):
            net(torch.rand(batch, *shape) * 2 - 1)
    net.eval()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        export_qonnx(net, torch.rand(1, *shape) * 2 - 1, str(path))


def fixed_point_mlp(path: Path, seed: int = 0) -> Path:
    """QuantIdentity(int8) -> QuantLinear(+bias) -> QuantReLU(uint8) -> QuantLinear(+bias)
    -> QuantReLU -> QuantLinear: Brevitas' FixedPoint quantizers, calibrated, exported."""

    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True),
        QuantLinear(24, 16, bias=True, weight_quant=Int8WeightPerTensorFixedPoint),
        QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        QuantLinear(16, 16, bias=True, weight_quant=Int8WeightPerTensorFixedPoint),
        QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        QuantLinear(16, 10, bias=True, weight_quant=Int8WeightPerTensorFixedPoint),
    )
    _calibrate_and_export(net, (24,), path, batch=64)
    return path


def residual_cnn(path: Path, seed: int = 0, main_scale_ratio: float = 1.0) -> Path:
    """A residual block as bnn_pynq's QuantResNet writes it: QuantIdentity(int8) -> conv BN
    QuantReLU(u4, ``act``) -> [conv BN QuantReLU -> conv BN ``act`` again] + skip -> QuantReLU
    -> MaxPool -> QuantLinear. The main path ends in the same QuantReLU as the skip path, so
    both sides of the add share one scale. ``main_scale_ratio`` != 1 then multiplies the main
    path's last quantizer's scale by it (in float32) in the exported file (Brevitas itself
    refuses to add QuantTensors of different scales): an exact small ratio (1.5 of this
    learned scale is exactly 3:2) bitfab adds with multipliers, an awkward one (1.1) it must
    refuse with a clear error."""
    import torch.nn as nn
    from brevitas.nn import QuantConv2d

    class Residual(nn.Module):
        def __init__(self, c: int = 8):
            super().__init__()
            self.inp = QuantIdentity(bit_width=8, return_quant_tensor=True)
            self.conv0 = QuantConv2d(3, c, 3, padding=1, bias=False, weight_bit_width=4)
            self.bn0 = nn.BatchNorm2d(c)
            self.act = QuantReLU(bit_width=4, return_quant_tensor=True)
            self.conv1 = QuantConv2d(c, c, 3, padding=1, bias=False, weight_bit_width=4)
            self.bn1 = nn.BatchNorm2d(c)
            self.relu1 = QuantReLU(bit_width=4, return_quant_tensor=True)
            self.conv2 = QuantConv2d(c, c, 3, padding=1, bias=False, weight_bit_width=4)
            self.bn2 = nn.BatchNorm2d(c)
            self.relu2 = self.act
            self.relu_out = QuantReLU(bit_width=4, return_quant_tensor=True)
            self.pool = nn.MaxPool2d(2)
            self.fc = QuantLinear(c * 4 * 4, 10, bias=False, weight_bit_width=4)

        def forward(self, x):
            x = self.act(self.bn0(self.conv0(self.inp(x))))
            y = self.relu1(self.bn1(self.conv1(x)))
            y = self.relu2(self.bn2(self.conv2(y)))
            z = self.pool(self.relu_out(y + x))
            return self.fc(z.flatten(1))

    torch.manual_seed(seed)
    net = Residual()
    _calibrate_and_export(net, (3, 8, 8), path)
    if main_scale_ratio != 1.0:
        import numpy as np
        from qonnx.core.modelwrapper import ModelWrapper

        m = ModelWrapper(str(path))
        add = m.get_nodes_by_op_type("Add")[0]
        q = m.find_producer(add.input[0])
        scale = m.get_initializer(q.input[1]) * np.float32(main_scale_ratio)
        m.set_initializer("main_path_scale", scale)
        q.input[1] = "main_path_scale"
        m.save(str(path))
    return path


def residual_two_scales(
    path: Path, scale_a: float, scale_b: float, bn_after: bool = False, seed: int = 0
) -> Path:
    """A residual block whose two paths end in different quantizers: the skip path's
    QuantReLU(u4) has the constant scale ``scale_a``, the main path (conv BN QuantReLU -> conv
    BN) ends in another QuantReLU(u4) of constant scale ``scale_b``; their float outputs are
    added (Brevitas only adds QuantTensors of one scale, so the quantizers return plain
    tensors), then [BatchNorm (``bn_after``)] -> QuantReLU (learned scale) -> MaxPool ->
    QuantLinear. The add's requantization sees ``sa*ia + sb*ib``."""
    import torch.nn as nn
    from brevitas.nn import QuantConv2d

    def const_relu(scale: float) -> QuantReLU:
        return QuantReLU(bit_width=4, scaling_impl_type="const", scaling_init=scale * 15)

    class Residual(nn.Module):
        def __init__(self, c: int = 8):
            super().__init__()
            self.inp = QuantIdentity(bit_width=8, return_quant_tensor=True)
            self.conv0 = QuantConv2d(3, c, 3, padding=1, bias=False, weight_bit_width=4)
            self.bn0 = nn.BatchNorm2d(c)
            self.act_a = const_relu(scale_a)
            self.conv1 = QuantConv2d(c, c, 3, padding=1, bias=False, weight_bit_width=4)
            self.bn1 = nn.BatchNorm2d(c)
            self.relu1 = QuantReLU(bit_width=4, return_quant_tensor=True)
            self.conv2 = QuantConv2d(c, c, 3, padding=1, bias=False, weight_bit_width=4)
            self.bn2 = nn.BatchNorm2d(c)
            self.act_b = const_relu(scale_b)
            self.bn_after = nn.BatchNorm2d(c) if bn_after else nn.Identity()
            self.relu_out = QuantReLU(bit_width=4, return_quant_tensor=True)
            self.pool = nn.MaxPool2d(2)
            self.fc = QuantLinear(c * 4 * 4, 10, bias=False, weight_bit_width=4)

        def forward(self, x):
            x = self.act_a(self.bn0(self.conv0(self.inp(x))))
            y = self.relu1(self.bn1(self.conv1(x)))
            y = self.act_b(self.bn2(self.conv2(y)))
            z = self.pool(self.relu_out(self.bn_after(y + x)))
            return self.fc(z.flatten(1))

    torch.manual_seed(seed)
    net = Residual()
    if bn_after:  # a BN far from identity: per-channel scales 0.5 .. 2
        with torch.no_grad():
            net.bn_after.weight.copy_(torch.linspace(0.5, 2.0, 8))
    _calibrate_and_export(net, (3, 8, 8), path)
    return path


def conv1d_net(path: Path, seed: int = 0) -> Path:
    """A 1-D conv net for radio I/Q samples (input 1x2x64), Brevitas' default quantizers:
    QuantIdentity(int8) -> QuantConv1d(2->8, k3, pad 1) BN1d QuantReLU(u4) -> MaxPool1d(2)
    -> QuantConv1d(8->16, k3, stride 2) BN1d QuantReLU(u4) -> flatten -> QuantLinear(->4)."""
    import torch.nn as nn
    from brevitas.nn import QuantConv1d

    def conv(c_in: int, c_out: int, **kw) -> QuantConv1d:
        return QuantConv1d(c_in, c_out, 3, bias=False, weight_bit_width=4, **kw)

    torch.manual_seed(seed)
    net = nn.Sequential(
        QuantIdentity(bit_width=8, return_quant_tensor=True),
        conv(2, 8, padding=1),
        nn.BatchNorm1d(8),
        QuantReLU(bit_width=4, return_quant_tensor=True),
        nn.MaxPool1d(2),
        conv(8, 16, stride=2),
        nn.BatchNorm1d(16),
        QuantReLU(bit_width=4, return_quant_tensor=True),
        nn.Flatten(),
        QuantLinear(16 * 15, 4, bias=False, weight_bit_width=4),
    )
    _calibrate_and_export(net, (2, 64), path)
    return path


def mini_mobilenet(path: Path, seed: int = 0) -> Path:
    """brevitas_examples' own MobileNet-v1 class (4-bit) at toy size: an 8-bit input quantizer
    (MobileNet has none), the init block (3x3/2, per-channel activation scales), a depthwise-
    separable stage with per-channel pointwise scales, a strided one, the truncating average
    pool and the Int32-bias classifier. Input 1x3x32x32."""
    from brevitas_examples.imagenet_classification.models.mobilenetv1 import MobileNet

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = QuantIdentity(bit_width=8, return_quant_tensor=True)
            self.net = MobileNet(
                channels=[[8], [16], [32]],
                first_stage_stride=False,
                act_bit_width=4,
                weight_bit_width=4,
                avg_pool_kernel_size=8,
                num_classes=10,
            )

        def forward(self, x):
            return self.net(self.inp(x))

    torch.manual_seed(seed)
    net = Net()
    _calibrate_and_export(net, (3, 32, 32), path)
    return path
