"""What a fuzz net is: a frozen ``NetSpec`` drawn from one integer seed.

The spec holds every structural choice (shapes, layer kinds, quantizer widths and flavours,
BN, bias, preprocessing, host tail) plus one weight seed per layer; ``tests.fuzz.builder``
turns it into a QONNX model. Keeping the choices in a plain dataclass (not in the model) is
what lets the shrinker edit a failing net one choice at a time and lets a regression file
record exactly what was drawn.

The draw stays inside the compiler's documented limits (accumulators <= 32 bits,
activations <= 12 bits, no zero points, no dilated conv, grouped convs only depthwise and with
Quant (not bipolar) weights, no zero padding of bipolar activations, average pools only on a
per-tensor integer activation, square windows, a global pool only on a square image), so a
rejection is a finding worth looking at, never the expected outcome.

Features added after the first campaigns (residual blocks, depthwise convs, average pools)
draw from their own random streams (``np.random.default_rng([seed, tag])``): a seed whose
new streams draw none of them gives the same net as before they existed, so regression files
and campaign figures of older seeds keep their meaning.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

ROUNDING_MODES = ("ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN")
ACTS = ("relu_quant", "quant", "quant_relu", "none")  # "none": float output (last layer only)
PREPROCS = ("none", "subdiv", "muladd")
TAILS = ("none", "muladd", "topk", "argmax", "softmax")
MAX_FC = 64  # features of an FC layer
MAX_CONV_CH = 8
MAX_HW = 8
MAX_LAYERS = 4
MAX_FLAT = 256  # features entering the first FC after convs (keeps MW and C-sim small)
AVG_OPS = ("AveragePool", "GlobalAveragePool", "ReduceMean")
# Brevitas' TruncAvgPool2d exports its rounding in lower case ("round", "floor")
TRUNC_ROUNDING = ("round", "floor", "ceil")
# the extra streams' tags (see the module docstring)
RESIDUAL_STREAM, AVGPOOL_STREAM, DEPTHWISE_STREAM = 4242, 4343, 4444


@dataclass(frozen=True)
class QuantSpec:
    """A quantizer: ``bits == 1`` and ``signed`` is bipolar (BipolarQuant for weights and
    activations alike); otherwise a QONNX ``Quant`` with these attributes."""

    bits: int
    signed: bool = True
    narrow: bool = False
    pow2: bool = True  # scale(s) rounded to powers of two
    rounding: str = "ROUND"

    @property
    def bipolar(self) -> bool:
        return self.bits == 1 and self.signed


@dataclass(frozen=True)
class LayerSpec:
    """One MAC layer and what follows it up to (and including) its activation quantizer.

    ``act == "none"`` only for the last layer: its output stays float for the host tail.
    ``bias`` is ``"none"``, ``"add"`` (an Add after the layer) or ``"input"`` (Gemm's C /
    Conv's B input). ``pool`` puts a 2x2/2 MaxPool after a conv's activation quantizer.
    ``residual`` makes a conv a residual block as Brevitas' QuantResNet writes it: the conv
    keeps its input's shape, ends in its input's own quantizer (one shared scale), and
    ``Add(conv, input) -> act/aq`` follows.

    ``depthwise``: a conv with group = channels (``out`` equals the input channels), as in
    MobileNet's depthwise-separable block (depthwise k x k, then a pointwise 1x1 conv).
    ``avgpool`` puts an average pool after the activation quantizer (never with ``pool``):
    ``"trunc"`` as Brevitas' TruncAvgPool2d/TruncAdaptiveAvgPool2d export it (the pool, then
    a Trunc at scale s_x/(k*k) to ``avg_q.bits``), ``"quant"`` as a float AvgPool2d followed
    by a QuantIdentity (the pool, then a calibrated Quant ``avg_q``). ``avg_op`` is the ONNX
    op: ``AveragePool`` (``avg_kernel``, ``avg_stride``) or a global pool
    (``GlobalAveragePool``, or ``ReduceMean`` over H and W as the adaptive pool exports).
    """

    kind: str  # "fc" | "conv"
    out: int
    wq: QuantSpec
    aq: QuantSpec | None
    act: str
    kernel: int = 1
    stride: int = 1
    pad: int = 0
    gemm: bool = False
    per_channel: bool = False
    bias: str = "none"
    bn: bool = False
    pool: bool = False
    seed: int = 0
    residual: bool = False
    depthwise: bool = False
    avgpool: str = "none"  # "none" | "trunc" | "quant"
    avg_op: str = "AveragePool"
    avg_kernel: int = 0
    avg_stride: int = 0
    avg_q: QuantSpec | None = None

    @property
    def avg_global(self) -> bool:
        return self.avgpool != "none" and self.avg_op != "AveragePool"


@dataclass(frozen=True)
class NetSpec:
    seed: int
    input_shape: tuple[int, ...]  # without batch: (F,) or (C, H, W)
    input_range: tuple[float, float]
    iq: QuantSpec
    layers: tuple[LayerSpec, ...]
    preproc: str = "none"
    int_input: bool = False  # graph input annotated UINT8 (range 0..255)
    tail: str = "none"
    topk: int = 1

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(d: dict) -> NetSpec:
        layers = []
        for lay in d["layers"]:
            lay = dict(lay)
            lay["wq"] = QuantSpec(**lay["wq"])
            lay["aq"] = QuantSpec(**lay["aq"]) if lay["aq"] is not None else None
            if lay.get("avg_q") is not None:  # absent in files older than average pools
                lay["avg_q"] = QuantSpec(**lay["avg_q"])
            layers.append(LayerSpec(**lay))
        rest = {k: v for k, v in d.items() if k not in ("layers", "iq")}
        rest["input_shape"] = tuple(rest["input_shape"])
        rest["input_range"] = tuple(rest["input_range"])
        return NetSpec(layers=tuple(layers), iq=QuantSpec(**d["iq"]), **rest)


def bipolar_out(lay: LayerSpec | None, iq: QuantSpec) -> bool:
    """Whether the tensor after ``lay`` (or the input quantizer when None) is bipolar."""
    if lay is None:
        return iq.bipolar
    return lay.aq is not None and lay.aq.bipolar and lay.act == "quant"


def residual_fits(prev: LayerSpec | None, lay: LayerSpec) -> bool:
    """A residual block needs a skip tensor that is an integer layer's quantizer output as is
    (no pool or Relu after it), and an activation after the add."""
    return (
        prev is not None
        and prev.kind == "conv"
        and prev.act in ("relu_quant", "quant")
        and prev.aq is not None
        and not prev.aq.bipolar
        and not prev.pool
        and prev.avgpool == "none"
        and lay.act != "none"
        and not (lay.aq is not None and lay.aq.bipolar)
    )


def conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def avg_window(lay: LayerSpec, h: int, w: int) -> tuple[int, int]:
    """The average pool's (kernel, stride) on an ``h`` x ``w`` input (global: the image)."""
    if lay.avg_global:
        return h, 1
    return lay.avg_kernel, lay.avg_stride


def after_avgpool(lay: LayerSpec, h: int, w: int) -> tuple[int, int]:
    """The image size after ``lay``'s average pool (unchanged without one)."""
    if lay.avgpool == "none":
        return h, w
    if lay.avg_global:
        return 1, 1
    k, s = lay.avg_kernel, lay.avg_stride
    return (h - k) // s + 1, (w - k) // s + 1


def trunc_in_bits(aq: QuantSpec, k: int) -> int:
    """The Trunc's input width as Brevitas writes it: the activation's bits plus the bits a
    sum of ``k*k`` of them adds."""
    return aq.bits + int(np.ceil(np.log2(k * k)))


def _bool(rng, p: float) -> bool:
    return bool(rng.random() < p)


def _draw_quant(rng, bits: int, signed: bool, act: bool) -> QuantSpec:
    narrow = _bool(rng, 0.3) and bits >= 2
    rounding = "ROUND"
    if act and _bool(rng, 0.2):
        rounding = str(rng.choice(ROUNDING_MODES))
    return QuantSpec(bits, signed, narrow, _bool(rng, 0.5), rounding)


def _draw_bits(rng) -> int:
    # all widths, the small ones (where BNN-style designs live) more often
    return int(rng.choice([1, 2, 2, 3, 4, 4, 5, 6, 7, 8]))


def _draw_weights(rng) -> QuantSpec:
    bits = _draw_bits(rng)
    q = _draw_quant(rng, bits, True, act=False)
    return dataclasses.replace(q, narrow=q.narrow or _bool(rng, 0.3)) if bits > 1 else q


def _draw_act(rng) -> tuple[str, QuantSpec]:
    kind = str(rng.choice(["relu_quant", "quant", "quant", "quant_relu", "bipolar"]))
    if kind == "bipolar":
        return "quant", QuantSpec(1, True, False, _bool(rng, 0.5))
    if kind == "relu_quant":
        bits = _draw_bits(rng)
        return kind, _draw_quant(rng, bits, _bool(rng, 0.2) and bits > 1, act=True)
    if kind == "quant_relu":
        bits = max(2, _draw_bits(rng))
        return kind, _draw_quant(rng, bits, True, act=True)
    bits = max(2, _draw_bits(rng))
    return kind, _draw_quant(rng, bits, _bool(rng, 0.5), act=True)


def draw_spec(seed: int) -> NetSpec:
    """The net for ``seed``: every choice from ``np.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    conv = _bool(rng, 0.45)
    if conv:
        shape: tuple[int, ...] = (
            int(rng.integers(1, MAX_CONV_CH + 1)),
            int(rng.integers(3, MAX_HW + 1)),
            int(rng.integers(3, MAX_HW + 1)),
        )
    else:
        shape = (int(rng.integers(2, MAX_FC + 1)),)
    int_input = _bool(rng, 0.15)
    preproc = str(rng.choice(["none", "none", "subdiv", "muladd"]))
    if int_input:
        preproc = str(rng.choice(["none", "subdiv", "muladd"]))
        in_range = (0.0, 255.0)
    elif preproc == "muladd":
        in_range = (0.0, 255.0)
    elif preproc == "subdiv":
        in_range = (0.0, 1.0)
    else:
        in_range = ((-1.0, 1.0), (0.0, 1.0), (-2.0, 3.0))[int(rng.integers(3))]
    ibits = int(rng.choice([1, 2, 4, 6, 8, 8, 8]))
    iq = _draw_quant(rng, ibits, ibits == 1 or _bool(rng, 0.7), act=False)
    if int_input and ibits == 1:
        iq = QuantSpec(8, True, False, True)  # a UINT8 input into a sign function is dull

    # residual blocks, average pools and depthwise convs draw from their own streams, so
    # adding them changed no other choice
    res_rng = np.random.default_rng([seed, RESIDUAL_STREAM])
    avg_rng = np.random.default_rng([seed, AVGPOOL_STREAM])
    dw_rng = np.random.default_rng([seed, DEPTHWISE_STREAM])
    ch = shape[0] if conv else 0
    n_layers = int(rng.integers(1, MAX_LAYERS + 1))
    n_conv = int(rng.integers(1, n_layers + 1)) if conv else 0
    layers: list[LayerSpec] = []
    prev: LayerSpec | None = None
    h, w = (shape[1], shape[2]) if conv else (0, 0)
    features = shape[0] if not conv else 0
    for i in range(n_layers):
        last = i == n_layers - 1
        wq = _draw_weights(rng)
        if last and _bool(rng, 0.5):
            act, aq = "none", None
        else:
            act, aq = _draw_act(rng)
        common = dict(
            wq=wq,
            aq=aq,
            act=act,
            per_channel=_bool(rng, 0.4),
            bias=str(rng.choice(["none", "add", "input"], p=[0.4, 0.35, 0.25])),
            bn=_bool(rng, 0.45) and act != "none",
            seed=int(rng.integers(2**31)),
        )
        if i < n_conv:
            dw = _draw_depthwise(dw_rng, prev, iq, ch, h, w)
            if dw is not None:  # a depthwise-separable block: this conv follows the depthwise
                layers.append(dw)
                prev = dw
                h, w = (
                    conv_out(h, dw.kernel, dw.stride, dw.pad),
                    conv_out(w, dw.kernel, dw.stride, dw.pad),
                )
            k = int(rng.integers(1, 4))
            s = int(rng.integers(1, 3))
            p = int(rng.integers(0, 2)) if not bipolar_out(prev, iq) else 0
            if dw is not None and _bool(dw_rng, 0.7):  # pointwise, as in MobileNet
                k, s, p = 1, 1, 0
            k = min(k, h + 2 * p, w + 2 * p)
            if min(h, w) == 1:  # qonnx's Im2Col: a 1-pixel axis takes kernel 1, no padding
                k, p = 1, 0
            prev_hw = (h, w)
            ho, wo = conv_out(h, k, s, p), conv_out(w, k, s, p)
            out = int(rng.integers(1, MAX_CONV_CH + 1))
            # a MaxPool after the last layer would run on the host, which has no MaxPool
            pool = not last and min(ho, wo) >= 2 and _bool(rng, 0.35)
            h, w = (ho // 2, wo // 2) if pool else (ho, wo)
            lay = LayerSpec("conv", out, kernel=k, stride=s, pad=p, pool=pool, **common)
            flat_ok = i != n_conv - 1 or last or ch * prev_hw[0] * prev_hw[1] <= MAX_FLAT
            if residual_fits(prev, lay) and flat_ok and _bool(res_rng, 0.6):
                k = int(res_rng.choice([1, 3])) if min(prev_hw) > 1 else 1
                pool = pool and min(prev_hw) >= 2
                lay = dataclasses.replace(
                    lay, out=ch, kernel=k, stride=1, pad=k // 2, pool=pool, residual=True
                )
                h, w = (prev_hw[0] // 2, prev_hw[1] // 2) if pool else prev_hw
            lay = _draw_avgpool(avg_rng, lay, h, w, 0.45 if i == n_conv - 1 else 0.25)
            h, w = after_avgpool(lay, h, w)
            ch = lay.out
            if i == n_conv - 1 and not last:
                while lay.out > 1 and lay.out * h * w > MAX_FLAT:
                    lay = dataclasses.replace(lay, out=lay.out // 2)
                features = lay.out * h * w
        else:
            out = int(rng.integers(2, MAX_FC + 1))
            lay = LayerSpec("fc", out, gemm=_bool(rng, 0.4), **common)
            features = out
        layers.append(lay)
        prev = lay
    out_2d = layers[-1].kind == "fc"
    tail = str(rng.choice(TAILS, p=[0.3, 0.2, 0.2, 0.1, 0.2])) if out_2d else "none"
    if not out_2d and _bool(rng, 0.3):
        tail = "muladd"
    topk = int(rng.integers(1, min(3, features) + 1)) if tail == "topk" else 1
    return NetSpec(
        seed=seed,
        input_shape=shape,
        input_range=in_range,
        iq=iq,
        layers=tuple(layers),
        preproc=preproc,
        int_input=int_input,
        tail=tail,
        topk=topk,
    )


def _draw_depthwise(
    rng, prev: LayerSpec | None, iq: QuantSpec, ch: int, h: int, w: int
) -> LayerSpec | None:
    """A depthwise conv (group = ``ch``) with its own kernel, stride, padding, quantizers and
    BN, or None. Its weights are never bipolar: the compiler refuses bipolar depthwise
    weights (the lowered block-diagonal matrix needs zeros), a documented limit."""
    if not _bool(rng, 0.35):
        return None
    k = int(rng.choice([1, 2, 3, 3, 3]))
    s = int(rng.integers(1, 3))
    p = int(rng.integers(0, 2)) if not bipolar_out(prev, iq) else 0
    k = min(k, h + 2 * p, w + 2 * p)
    if min(h, w) == 1:  # qonnx's Im2Col: a 1-pixel axis takes kernel 1, no padding
        k, p = 1, 0
    wq = _draw_quant(rng, int(rng.choice([2, 2, 3, 4, 4, 5, 6, 8])), True, act=False)
    wq = dataclasses.replace(wq, narrow=wq.narrow or _bool(rng, 0.3))
    act, aq = _draw_act(rng)
    return LayerSpec(
        "conv",
        ch,
        wq,
        aq,
        act,
        kernel=k,
        stride=s,
        pad=p,
        per_channel=_bool(rng, 0.5),
        bias=str(rng.choice(["none", "add", "input"], p=[0.5, 0.25, 0.25])),
        bn=_bool(rng, 0.6),
        seed=int(rng.integers(2**31)),
        depthwise=True,
    )


def _draw_avgpool(rng, lay: LayerSpec, h: int, w: int, p: float) -> LayerSpec:
    """``lay`` with an average pool after its activation quantizer (with probability ``p``
    where one fits), else ``lay``. The pool needs a per-tensor integer activation (not
    bipolar, not the float output of a last layer) and no MaxPool; a global pool needs a
    square image and a windowed one a square window (the compiler's documented limits)."""
    if lay.aq is None or lay.aq.bipolar or lay.pool or not _bool(rng, p):
        return lay
    if h == w and _bool(rng, 0.5):
        op, k, s = str(rng.choice(AVG_OPS[1:])), 0, 0
        kk = h
    elif min(h, w) >= 2:
        op = "AveragePool"
        k = int(rng.integers(2, min(3, h, w) + 1))
        s = int(rng.integers(1, k + 1))
        kk = k
    else:
        return lay
    signed = lay.aq.signed
    lo = 2 if signed else 1
    # A Quant straight after the pool of a non-power-of-two scale is refused by design
    # (README): float32 rounds each window's additions, the calibrated output scale is a
    # rational multiple of the input's, and its ties then fall by the rounding of the
    # window's values, not by the sum (3 of 30 avgpool nets, seeds 2013, 2098). Brevitas'
    # TruncAvgPool2d rounds the sum back to an integer first and has no such limit.
    if _bool(rng, 0.6) or not lay.aq.pow2:  # TruncAvgPool2d: the sum's low bits dropped
        hi = min(trunc_in_bits(lay.aq, kk), 8)
        bits = lay.aq.bits if lo <= lay.aq.bits <= hi and _bool(rng, 0.5) else None
        bits = bits or int(rng.integers(min(lo, hi), hi + 1))
        narrow = signed and bits > 1 and _bool(rng, 0.2)
        avg_q = QuantSpec(bits, signed, narrow, True, str(rng.choice(TRUNC_ROUNDING)))
        flavour = "trunc"
    else:  # a float AvgPool2d followed by a QuantIdentity
        bits = max(lo, _draw_bits(rng))
        avg_q = _draw_quant(rng, bits, signed, act=True)
        flavour = "quant"
    return dataclasses.replace(
        lay, avgpool=flavour, avg_op=op, avg_kernel=k, avg_stride=s, avg_q=avg_q
    )


def describe(spec: NetSpec) -> str:
    """One line for logs: shapes and layer kinds."""
    parts = [f"in{list(spec.input_shape)}", _q(spec.iq)]
    if spec.preproc != "none":
        parts.insert(1, spec.preproc)
    if spec.int_input:
        parts.insert(1, "uint8")
    for lay in spec.layers:
        s = ("dw" if lay.depthwise else lay.kind) + str(lay.out)
        if lay.kind == "conv":
            s += f"k{lay.kernel}s{lay.stride}p{lay.pad}"
        s += f"/w{_q(lay.wq)}"
        if lay.bn:
            s += "+bn"
        if lay.bias != "none":
            s += f"+b:{lay.bias}"
        s += f"/{lay.act}" + (f"{_q(lay.aq)}" if lay.aq else "")
        if lay.residual:
            s += "+res"
        if lay.pool:
            s += "+pool"
        if lay.avgpool != "none":
            where = "g" + lay.avg_op[0] if lay.avg_global else f"k{lay.avg_kernel}s{lay.avg_stride}"
            s += f"+avg:{lay.avgpool}:{where}/{_q(lay.avg_q)}"
        parts.append(s)
    if spec.tail != "none":
        parts.append(spec.tail)
    return " ".join(parts)


def _q(q: QuantSpec | None) -> str:
    if q is None:
        return "-"
    if q.bipolar:
        return "bip"
    s = ("i" if q.signed else "u") + str(q.bits) + ("n" if q.narrow else "")
    return s + ("" if q.pow2 else "~") + ("" if q.rounding == "ROUND" else q.rounding[:2])
