"""The model zoo: names, shapes and bit widths of every model bitfab knows, and how to build them.

The topologies are Brevitas' ``bnn_pynq`` classes (FINN's BNN-PYNQ networks) used as they are,
so that an exported zoo model is the same graph a FINN user gets from Brevitas. Nothing here
downloads weights: a model is built with seeded random weights (and is "untrained") unless a
checkpoint from :mod:`models.checkpoint` is loaded into it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from models.errors import ModelError

with warnings.catch_warnings():
    # Brevitas warns at import time about optional CUDA kernels that a CPU flow never uses.
    warnings.simplefilter("ignore")
    from brevitas.core.restrict_val import RestrictValueType
    from brevitas.nn import QuantConv1d, QuantConv2d, QuantIdentity, QuantLinear, QuantReLU
    from brevitas.quant import Int8WeightPerTensorFixedPoint, Uint8ActPerTensorFixedPoint
    from brevitas.quant_tensor import QuantTensor
    from brevitas_examples.bnn_pynq.models.CNV import CNV, CNV_OUT_CH_POOL, KERNEL_SIZE, POOL_SIZE
    from brevitas_examples.bnn_pynq.models.common import CommonActQuant
    from brevitas_examples.bnn_pynq.models.FC import DROPOUT, FC
    from brevitas_examples.bnn_pynq.models.resnet import QuantBasicBlock, QuantResNet
    from brevitas_examples.bnn_pynq.models.tensor_norm import TensorNorm

log = logging.getLogger(__name__)

#: BatchNorm calibration of a freshly built model: number of forward passes and batch size.
CALIBRATION_PASSES = 4
CALIBRATION_BATCH = 64
#: A batch holds at most this many input pixels (64 CIFAR images), and at least
#: CALIBRATION_MIN_BATCH images: a channel's statistics average over every pixel of the batch, so
#: a 224x224 ImageNet input needs far fewer images than a 28x28 one. At 64 images, calibrating
#: MobileNet-v1 alone took 80 s of its 10-minute build budget (it now runs 16 images, not 256).
CALIBRATION_PIXELS = 64 * 32 * 32
CALIBRATION_MIN_BATCH = 4


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry: everything the compiler and the trainer need to know before building it.

    ``input_shape`` has batch 1 and is NCHW (NCL for a 1-D net); the network takes float input
    in [0, 1] and does its own ``2x - 1`` preprocessing. ``hidden`` is the hidden layer widths
    (for CNV: the six conv channel counts, then the two FC widths; for radio1d: the conv channel
    counts, then the FC widths). ``quant`` names the quantizer family: ``"bnn"`` is
    BNN-PYNQ's constant-scale quantizers (the ``bnn_pynq`` classes as they are), ``"fixed_point"``
    is Brevitas' power-of-two fixed-point ones (``Int8WeightPerTensorFixedPoint`` weights,
    ``QuantReLU`` with ``Uint8ActPerTensorFixedPoint`` activations, at the entry's bit widths).
    """

    name: str
    topology: str
    weight_bits: int
    act_bits: int
    in_bits: int
    dataset: str
    input_shape: tuple[int, ...]
    num_classes: int
    hidden: tuple[int, ...]
    quant: str = "bnn"


_FC_HIDDEN = {"tfc": (64, 64, 64), "sfc": (256, 256, 256), "lfc": (1024, 1024, 1024)}
# W, A -> input bit width, as in Brevitas' bnn_pynq cfg files (lfc-w2a2 has no cfg: 2, like
# the other w2a2 FC nets).
_FC_IN_BITS = {(1, 1): 1, (1, 2): 2, (2, 2): 2}
_CNV_HIDDEN = (64, 64, 128, 128, 256, 256, 512, 512)
_BITS = ((1, 1), (1, 2), (2, 2))
#: quant_mobilenet_v1's pointwise widths, stage by stage flattened (brevitas_examples)
_MOBILENET_V1_CHANNELS = (32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)
#: (topology, W, A) of the power-of-two fixed-point entries; all have an 8-bit Q1.7 input.
_FIXED_POINT = (("tfc", 8, 8), ("cnv", 8, 8), ("cnv", 4, 4), ("digits", 8, 8))
#: radio1d: conv 3 (padded) + BN + ReLU + max-pool 2 per conv width, then the FC widths.
_RADIO1D_CONVS = (16, 16)
_RADIO1D_HIDDEN = (*_RADIO1D_CONVS, 32)
_SHAPES = {
    "tfc": ("mnist", (1, 1, 28, 28), _FC_HIDDEN["tfc"]),
    "cnv": ("cifar10", (1, 3, 32, 32), _CNV_HIDDEN),
    "digits": ("digits", (1, 1, 8, 8), (64, 64)),
}


def _make_registry() -> dict[str, ZooModel]:
    entries: list[ZooModel] = []
    for topology, hidden in _FC_HIDDEN.items():
        for w, a in _BITS:
            entries.append(
                ZooModel(
                    name=f"{topology}-w{w}a{a}",
                    topology=topology,
                    weight_bits=w,
                    act_bits=a,
                    in_bits=_FC_IN_BITS[(w, a)],
                    dataset="mnist",
                    input_shape=(1, 1, 28, 28),
                    num_classes=10,
                    hidden=hidden,
                )
            )
    for w, a in _BITS:
        entries.append(
            ZooModel(
                name=f"cnv-w{w}a{a}",
                topology="cnv",
                weight_bits=w,
                act_bits=a,
                in_bits=8,
                dataset="cifar10",
                input_shape=(1, 3, 32, 32),
                num_classes=10,
                hidden=_CNV_HIDDEN,
            )
        )
    entries.append(
        ZooModel(
            name="digits-w2a2",
            topology="digits",
            weight_bits=2,
            act_bits=2,
            in_bits=8,
            dataset="digits",
            input_shape=(1, 1, 8, 8),
            num_classes=10,
            hidden=(64, 64),
        )
    )
    for topology, w, a in _FIXED_POINT:
        dataset, shape, hidden = _SHAPES[topology]
        entries.append(
            ZooModel(
                name=f"{topology}-w{w}a{a}",
                topology=topology,
                weight_bits=w,
                act_bits=a,
                in_bits=8,
                dataset=dataset,
                input_shape=shape,
                num_classes=10,
                hidden=hidden,
                quant="fixed_point",
            )
        )
    entries.append(
        ZooModel(
            name="resnet18-w4a4",
            topology="resnet18",
            weight_bits=4,
            act_bits=4,
            in_bits=8,
            dataset="cifar10",
            input_shape=(1, 3, 32, 32),
            num_classes=10,
            hidden=(64, 128, 256, 512),
            quant="bnn_pynq_resnet",
        )
    )
    entries.append(
        ZooModel(
            name="radio1d-w4a4",
            topology="radio1d",
            weight_bits=4,
            act_bits=4,
            in_bits=8,
            # RadioML 2016.10a's shape (I/Q frames of 128 samples, 11 modulations); no loader:
            # built untrained from seeded weights, nothing is downloaded
            dataset="radioml",
            input_shape=(1, 2, 128),
            num_classes=11,
            hidden=_RADIO1D_HIDDEN,
            quant="fixed_point",
        )
    )
    entries.append(
        ZooModel(
            name="mobilenet-v1-w4a4",
            topology="mobilenet-v1",
            weight_bits=4,
            act_bits=4,
            in_bits=8,
            dataset="imagenet",
            input_shape=(1, 3, 224, 224),
            num_classes=1000,
            hidden=_MOBILENET_V1_CHANNELS,
            quant="brevitas_imagenet",
        )
    )
    return {e.name: e for e in entries}


_REGISTRY = _make_registry()


def list_models() -> list[ZooModel]:
    """All zoo entries, in a fixed order so listings are reproducible.

    BNN-PYNQ nets first (FC nets, CNV, digits), then the fixed-point ones (tfc, cnv, digits),
    ResNet-18, and the 1-D radio1d.
    """
    return list(_REGISTRY.values())


def get_model(name: str) -> ZooModel:
    """The entry called ``name``; a user typo gets the list of names that would work."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise ModelError(f"unknown model {name!r}; known models: {known}") from None


def _q17_input() -> QuantIdentity:
    """CNV's 8-bit Q1.7 input quantizer: constant scale 2**-7, signed, not narrow."""
    return QuantIdentity(
        act_quant=CommonActQuant,
        bit_width=8,
        min_val=-1.0,
        max_val=1.0 - 2.0**-7,
        narrow_range=False,
        restrict_scaling_type=RestrictValueType.POWER_OF_TWO,
    )


class FCQ17Input(FC):
    """Brevitas' FC network whose input quantizer is CNV's Q1.7 one (8 bits, scale 2**-7).

    FC's own input quantizer has scale ``1/(2**(b-1) - 1)``, which is not a power of two for
    8 bits, so the integer pipeline could not represent the quantized input exactly. With the
    Q1.7 quantizer every input level is an integer times 2**-7, and the ``2x - 1`` of
    ``FC.forward`` (kept) maps pixel values k/16 onto that grid exactly.
    """

    def __init__(
        self,
        num_classes: int,
        weight_bit_width: int,
        act_bit_width: int,
        in_features: tuple[int, int],
        out_features: tuple[int, ...],
    ) -> None:
        super().__init__(
            num_classes=num_classes,
            weight_bit_width=weight_bit_width,
            act_bit_width=act_bit_width,
            in_bit_width=8,
            in_channels=1,
            out_features=out_features,
            in_features=in_features,
        )
        self.features[0] = _q17_input()


def _fixed_point_linear(in_features: int, out_features: int, bits: int) -> QuantLinear:
    return QuantLinear(
        in_features,
        out_features,
        bias=False,
        weight_quant=Int8WeightPerTensorFixedPoint,
        weight_bit_width=bits,
    )


def _fixed_point_relu(bits: int) -> QuantReLU:
    return QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=bits)


def _uniform_init(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, (QuantLinear, QuantConv1d, QuantConv2d)):
            nn.init.uniform_(m.weight.data, -1, 1)


class FixedPointFC(FC):
    """FC's topology with power-of-two fixed-point quantizers and ReLU activations.

    Layer order, dropout, the ``2x - 1`` preprocessing, the uniform(-1, 1) weight init, the
    TensorNorm tail and ``clip_weights`` are FC's (inherited ``forward``/``clip_weights``);
    what changes is the quantization: the Q1.7 input quantizer of :class:`FCQ17Input`, weights
    with ``Int8WeightPerTensorFixedPoint`` at ``weight_bit_width`` bits (narrow, scale the power
    of two just above max|w| / (2**(b-1) - 1)) and hidden activations ``QuantReLU`` with
    ``Uint8ActPerTensorFixedPoint`` at ``act_bit_width`` bits (a learned power-of-two scale,
    initialised from the 99.999th percentile of the first training batches). ``clip_weights``
    to [-1, 1] only bounds the weight range; with BatchNorm after every layer the nets are
    insensitive to that scale.
    """

    def __init__(
        self,
        num_classes: int,
        weight_bit_width: int,
        act_bit_width: int,
        in_features: tuple[int, int],
        out_features: tuple[int, ...],
    ) -> None:
        nn.Module.__init__(self)
        self.features = nn.ModuleList([_q17_input(), nn.Dropout(p=DROPOUT)])
        width = in_features[0] * in_features[1]
        for features in out_features:
            self.features.append(_fixed_point_linear(width, features, weight_bit_width))
            self.features.append(nn.BatchNorm1d(features))
            self.features.append(_fixed_point_relu(act_bit_width))
            self.features.append(nn.Dropout(p=DROPOUT))
            width = features
        self.features.append(_fixed_point_linear(width, num_classes, weight_bit_width))
        self.features.append(TensorNorm())
        _uniform_init(self)


class FixedPointCNV(CNV):
    """CNV's topology with power-of-two fixed-point quantizers and ReLU activations.

    Six unpadded 3x3 convs (64, 64, 128, 128, 256, 256) with 2x2 max-pool after the second and
    fourth, FC 256 -> 512 -> 512 -> 10, BatchNorm (eps 1e-4) after every conv/FC but the last,
    TensorNorm tail, Q1.7 input; ``forward``/``clip_weights`` are CNV's. Quantizers as in
    :class:`FixedPointFC`.
    """

    def __init__(
        self, num_classes: int, weight_bit_width: int, act_bit_width: int, in_ch: int
    ) -> None:
        nn.Module.__init__(self)
        self.conv_features = nn.ModuleList([_q17_input()])
        self.linear_features = nn.ModuleList()
        for out_ch, pool in CNV_OUT_CH_POOL:
            self.conv_features.append(
                QuantConv2d(
                    in_ch,
                    out_ch,
                    kernel_size=KERNEL_SIZE,
                    bias=False,
                    weight_quant=Int8WeightPerTensorFixedPoint,
                    weight_bit_width=weight_bit_width,
                )
            )
            self.conv_features.append(nn.BatchNorm2d(out_ch, eps=1e-4))
            self.conv_features.append(_fixed_point_relu(act_bit_width))
            if pool:
                self.conv_features.append(nn.MaxPool2d(kernel_size=POOL_SIZE))
            in_ch = out_ch
        width = in_ch
        for features in _CNV_HIDDEN[len(CNV_OUT_CH_POOL) :]:
            self.linear_features.append(_fixed_point_linear(width, features, weight_bit_width))
            self.linear_features.append(nn.BatchNorm1d(features, eps=1e-4))
            self.linear_features.append(_fixed_point_relu(act_bit_width))
            width = features
        self.linear_features.append(_fixed_point_linear(width, num_classes, weight_bit_width))
        self.linear_features.append(TensorNorm())
        _uniform_init(self)


class FixedPointRadio1D(nn.Module):
    """A small 1-D conv net for radio I/Q frames (N, 2, L), as in RadioML modulation
    classifiers: per conv width, a padded QuantConv1d k=3, BatchNorm1d, QuantReLU and
    MaxPool1d(2); then flatten, per FC width QuantLinear, BatchNorm1d and QuantReLU; a final
    QuantLinear. The ``2x - 1``, the Q1.7 input and the quantizers are :class:`FixedPointFC`'s.
    """

    def __init__(
        self,
        num_classes: int,
        weight_bit_width: int,
        act_bit_width: int,
        in_shape: tuple[int, int],
        convs: tuple[int, ...],
        fcs: tuple[int, ...],
    ) -> None:
        super().__init__()
        in_ch, length = in_shape
        layers: list[nn.Module] = [_q17_input()]
        for out_ch in convs:
            conv = QuantConv1d(
                in_ch,
                out_ch,
                kernel_size=3,
                padding=1,
                bias=False,
                weight_quant=Int8WeightPerTensorFixedPoint,
                weight_bit_width=weight_bit_width,
            )
            layers += [conv, nn.BatchNorm1d(out_ch), _fixed_point_relu(act_bit_width)]
            layers.append(nn.MaxPool1d(2))
            in_ch, length = out_ch, length // 2
        layers.append(nn.Flatten())
        width = in_ch * length
        for features in fcs:
            layers.append(_fixed_point_linear(width, features, weight_bit_width))
            layers += [nn.BatchNorm1d(features), _fixed_point_relu(act_bit_width)]
            width = features
        layers.append(_fixed_point_linear(width, num_classes, weight_bit_width))
        self.features = nn.Sequential(*layers)
        _uniform_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(2.0 * x - 1.0)


def _construct_fixed_point(entry: ZooModel) -> nn.Module:
    if entry.topology in ("tfc", "digits"):
        return FixedPointFC(
            num_classes=entry.num_classes,
            weight_bit_width=entry.weight_bits,
            act_bit_width=entry.act_bits,
            in_features=entry.input_shape[2:],
            out_features=entry.hidden,
        )
    if entry.topology == "cnv":
        return FixedPointCNV(
            num_classes=entry.num_classes,
            weight_bit_width=entry.weight_bits,
            act_bit_width=entry.act_bits,
            in_ch=entry.input_shape[1],
        )
    if entry.topology == "radio1d":
        n = len(_RADIO1D_CONVS)
        return FixedPointRadio1D(
            num_classes=entry.num_classes,
            weight_bit_width=entry.weight_bits,
            act_bit_width=entry.act_bits,
            in_shape=entry.input_shape[1:],
            convs=entry.hidden[:n],
            fcs=entry.hidden[n:],
        )
    raise ModelError(f"model {entry.name!r}: no fixed-point {entry.topology!r} topology")


class ExportableBasicBlock(QuantBasicBlock):
    """bnn_pynq's QuantBasicBlock, whose ``forward`` asserts that both sides of the residual
    add are QuantTensors. Under ``torch.export`` (which Brevitas' QONNX export uses with torch
    2.13) they are traced tensors, so Brevitas' own resnet18_4w4a cannot be exported as it is.
    Same computation; the check runs when not exporting."""

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        if len(self.downsample):
            x = self.downsample(x)
        if not torch.compiler.is_exporting():
            assert isinstance(out, QuantTensor) and isinstance(x, QuantTensor), (
                "Perform add among QuantTensors"
            )
        return self.relu_out(out + x)


class Q17ResNet18(nn.Module):
    """bnn_pynq's quant ResNet-18 (``resnet18_4w4a``: BasicBlocks [2, 2, 2, 2], 4-bit weights
    and activations, 8-bit first and last layers, shared quantizers along every residual add,
    an 8-bit truncating average pool) as Brevitas defines it, behind CNV's ``2x - 1`` and Q1.7
    input quantizer: QuantResNet itself has none ("the input is already 8b RGB"), and every
    layer bitfab maps needs a quantized input."""

    def __init__(self, num_classes: int, weight_bit_width: int, act_bit_width: int) -> None:
        super().__init__()
        self.input_quant = _q17_input()
        self.net = QuantResNet(
            block_impl=ExportableBasicBlock,
            num_blocks=[2, 2, 2, 2],
            num_classes=num_classes,
            weight_bit_width=weight_bit_width,
            act_bit_width=act_bit_width,
        )
        self.input_quant.return_quant_tensor = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.input_quant(2.0 * x - 1.0))


class Q17MobileNetV1(nn.Module):
    """brevitas_examples' ``quant_mobilenet_v1_4b`` (MobileNet-v1, 4-bit weights and
    activations, 8-bit first layer, per-channel pointwise activation scales, a truncating 7x7
    average pool, 4-bit classifier with an Int32 bias; the channels of its cfg) behind CNV's
    ``2x - 1`` and Q1.7 input quantizer: the network itself takes float input into its first
    conv, which bitfab cannot map."""

    def __init__(self, num_classes: int, bits: int) -> None:
        super().__init__()
        from brevitas_examples.imagenet_classification.models.mobilenetv1 import MobileNet

        c = _MOBILENET_V1_CHANNELS
        self.input_quant = _q17_input()
        self.input_quant.return_quant_tensor = True
        self.net = MobileNet(
            channels=[[c[0]], [c[1]], list(c[2:4]), list(c[4:6]), list(c[6:12]), list(c[12:])],
            first_stage_stride=False,
            round_average_pool=False,
            act_bit_width=bits,
            weight_bit_width=bits,
            last_layer_bit_width=bits,
            num_classes=num_classes,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.input_quant(2.0 * x - 1.0))


def _construct(entry: ZooModel) -> nn.Module:
    if entry.quant == "bnn_pynq_resnet":
        return Q17ResNet18(entry.num_classes, entry.weight_bits, entry.act_bits)
    if entry.quant == "brevitas_imagenet":
        return Q17MobileNetV1(entry.num_classes, entry.weight_bits)
    if entry.quant == "fixed_point":
        return _construct_fixed_point(entry)
    if entry.topology in _FC_HIDDEN:
        return FC(
            num_classes=entry.num_classes,
            weight_bit_width=entry.weight_bits,
            act_bit_width=entry.act_bits,
            in_bit_width=entry.in_bits,
            in_channels=entry.input_shape[1],
            out_features=entry.hidden,
            in_features=entry.input_shape[2:],
        )
    if entry.topology == "cnv":
        return CNV(
            num_classes=entry.num_classes,
            weight_bit_width=entry.weight_bits,
            act_bit_width=entry.act_bits,
            in_bit_width=entry.in_bits,
            in_ch=entry.input_shape[1],
        )
    if entry.topology == "digits":
        return FCQ17Input(
            num_classes=entry.num_classes,
            weight_bit_width=entry.weight_bits,
            act_bit_width=entry.act_bits,
            in_features=entry.input_shape[2:],
            out_features=entry.hidden,
        )
    raise ModelError(f"model {entry.name!r}: unknown topology {entry.topology!r}")


def calibration_batch(input_shape: tuple[int, ...]) -> int:
    """Images per calibration pass for inputs of ``input_shape`` (batch first)."""
    pixels = 1
    for d in input_shape[2:]:
        pixels *= d
    return max(CALIBRATION_MIN_BATCH, min(CALIBRATION_BATCH, CALIBRATION_PIXELS // pixels))


@torch.no_grad()
def calibrate_norm_stats(model: nn.Module, entry: ZooModel, seed: int = 0) -> None:
    """Set BatchNorm/TensorNorm running statistics from seeded random inputs in [0, 1].

    Why: Brevitas initialises running stats to mean 0, var 1 while the accumulators of a random
    net are far larger, so every hidden activation of an untrained net saturates and every
    threshold lands at the edge of its range. Measured stats make an untrained net exercise
    all output levels, which is what compiler tests need. Gammas and betas keep Brevitas' init.
    Statistics are the cumulative average over the passes (BatchNorm ``momentum=None``; for
    TensorNorm, which has no such mode, ``momentum = 1/(k+1)`` on pass k does the same).
    """
    gen = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    tnorms = [m for m in model.modules() if isinstance(m, TensorNorm)]
    saved = [m.momentum for m in norms], [m.momentum for m in tnorms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()  # dropout's 1/(1-p) rescaling would bias the measured statistics
    try:
        shape = (calibration_batch(entry.input_shape), *entry.input_shape[1:])
        for k in range(CALIBRATION_PASSES):
            for m in tnorms:
                m.momentum = 1.0 / (k + 1)
            model(torch.rand(shape, generator=gen))
    finally:
        for m, mom in zip(norms, saved[0], strict=True):
            m.momentum = mom
        for m, mom in zip(tnorms, saved[1], strict=True):
            m.momentum = mom
        model.eval()


def build_model(entry: ZooModel, seed: int = 0) -> nn.Module:
    """A fresh model for ``entry`` with seeded random weights and calibrated norm statistics.

    The same ``seed`` always gives the same weights (the caller's global torch RNG state is left
    untouched). The result is in eval mode and untrained until a checkpoint is loaded into it.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _construct(entry)
    calibrate_norm_stats(model, entry, seed=seed)
    log.debug("built %s (seed %d, untrained)", entry.name, seed)
    return model
