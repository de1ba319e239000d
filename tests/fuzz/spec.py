"""What a fuzz net is: a frozen ``NetSpec`` drawn from one integer seed.

The spec holds every structural choice (shapes, layer kinds, quantizer widths and flavours,
BN, bias, preprocessing, host tail) plus one weight seed per layer; ``tests.fuzz.builder``
turns it into a QONNX model. Keeping the choices in a plain dataclass (not in the model) is
what lets the shrinker edit a failing net one choice at a time and lets a regression file
record exactly what was drawn.

The draw stays inside the compiler's documented limits (accumulators <= 32 bits,
activations <= 12 bits, no zero points, no grouped/dilated conv, no zero padding of bipolar
activations), so a rejection is a finding worth looking at, never the expected outcome.
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


def _residual_fits(prev: LayerSpec | None, lay: LayerSpec) -> bool:
    """A residual block needs a skip tensor that is an integer layer's quantizer output as is
    (no pool or Relu after it), and an activation after the add."""
    return (
        prev is not None
        and prev.kind == "conv"
        and prev.act in ("relu_quant", "quant")
        and prev.aq is not None
        and not prev.aq.bipolar
        and not prev.pool
        and lay.act != "none"
        and not (lay.aq is not None and lay.aq.bipolar)
    )


def conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


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

    # residual blocks draw from their own stream, so adding them changed no other choice
    res_rng = np.random.default_rng([seed, 4242])
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
            k = int(rng.integers(1, 4))
            s = int(rng.integers(1, 3))
            p = int(rng.integers(0, 2)) if not bipolar_out(prev, iq) else 0
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
            if _residual_fits(prev, lay) and flat_ok and _bool(res_rng, 0.6):
                k = int(res_rng.choice([1, 3])) if min(prev_hw) > 1 else 1
                pool = pool and min(prev_hw) >= 2
                lay = dataclasses.replace(
                    lay, out=ch, kernel=k, stride=1, pad=k // 2, pool=pool, residual=True
                )
                h, w = (prev_hw[0] // 2, prev_hw[1] // 2) if pool else prev_hw
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


def describe(spec: NetSpec) -> str:
    """One line for logs: shapes and layer kinds."""
    parts = [f"in{list(spec.input_shape)}", _q(spec.iq)]
    if spec.preproc != "none":
        parts.insert(1, spec.preproc)
    if spec.int_input:
        parts.insert(1, "uint8")
    for lay in spec.layers:
        s = f"{lay.kind}{lay.out}"
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
