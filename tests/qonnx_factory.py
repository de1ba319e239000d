"""Hand-built QONNX models for frontend tests: networks as other tools write them.

Every factory takes an integer ``seed`` and returns a :class:`qonnx.core.modelwrapper.ModelWrapper`
with shapes inferred. Weights come from ``np.random.default_rng(seed)``, so one seed always gives
the same model. The graphs use ONNX opset 13 for standard ops and the QONNX ops ``Quant`` and
``BipolarQuant`` from the domain ``qonnx.custom_op.general`` (opset version 1).

All networks are fully connected and small: at most 64 input features, hidden layers of at most 32.
Each model records the float input range its preprocessing expects in the model-level
``metadata_props`` key ``bitfab.input_range`` (``"lo,hi"``, see :func:`input_range`).

While a graph is being built, a calibration batch of random inputs in that range goes through a
numpy copy of the network. BatchNormalization statistics and activation scales are set from that
batch, and every activation quantizer must show several levels on it (the builder raises
otherwise), so no activation ends up all saturated or all zero.

Registries:

* ``FACTORIES``: valid models that ``qonnx.core.onnx_exec.execute_onnx`` runs, giving finite output.
* ``SYMBOLIC_FACTORIES``: valid models with symbolic dimensions (batch, output, intermediate).
* ``OPTION_FACTORIES``: valid models that build only with a CLI option (hls4ml-style float input).
* ``BAD_FACTORIES``: models the compiler has to reject: no quantizers, an unsupported op,
  a dilated Conv, a symbolic feature dimension, weights wider than 8 bits, a zero scale.
* ``UNEXECUTABLE_FACTORIES``: valid QONNX, as another tool writes it, that the reference
  executor in qonnx 1.0 refuses to run (Brevitas' ``rounding_mode="ROUND_TO_ZERO"``).

Notes on qonnx 1.0 (``qonnx/custom_op/general/intquant.py``; ``quant.py`` only re-exports it):

* ``Quant`` has the attributes ``signed`` (int, required), ``narrow`` (int, required) and
  ``rounding_mode`` (string, optional, default ``"ROUND"``). ``BipolarQuant`` has no attributes.
* ``rounding_mode`` is upper-cased and then has to be one of ``ROUND``/``HALF_EVEN``
  (np.round, ties to even), ``CEIL``, ``FLOOR``, ``UP`` (away from zero), ``DOWN`` (toward zero,
  np.fix), ``HALF_UP`` or ``HALF_DOWN``. The Brevitas spelling ``ROUND_TO_ZERO`` raises ValueError
  at execution, so round-toward-zero models here are written with ``"DOWN"``.
* Quant clamps before it rounds. Unsigned narrow range is ``[0, 2**b - 2]``. A 1-bit signed Quant
  becomes bipolar (+-1; x >= 0 maps to +1).
* scale and zeropt are simply broadcast against x with numpy; nothing checks their shape.
  Scale 0 gives 0 for x != 0 and NaN for x == 0.
* Both ops are elementwise, so any batch size works, but ``execute_onnx`` needs the input shape
  to match the declared one exactly (use ChangeBatchSize + InferShapes for batch > 1). A
  symbolic batch dim reads back as 0 from ``get_tensor_shape``, and
  ``check_all_tensor_shapes_specified`` still returns True for it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import int_quant, max_int
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

QONNX_DOMAIN = "qonnx.custom_op.general"
ONNX_OPSET = 13
QONNX_OPSET = 1
INPUT_RANGE_KEY = "bitfab.input_range"

N_CALIB = 512  # calibration batch size, numpy only (the ONNX graph has batch 1)
BN_EPS = 1e-5


@dataclass
class T:
    """A tensor being built: its ONNX name and its value on the calibration batch.

    For activations ``val`` has the calibration batch as its leading axis; for weights
    (initializer -> Quant) it is the quantized weight itself.
    """

    name: str
    val: np.ndarray


class _Builder:
    def __init__(self, seed: int, input_range: tuple[float, float]):
        self.rng = np.random.default_rng(seed)
        self.lo, self.hi = input_range
        self.nodes: list = []
        self.inits: list = []
        self.inputs: list = []
        self._count: dict[str, int] = {}

    # ---- naming / constants -------------------------------------------------------------
    def _uniq(self, prefix: str) -> str:
        i = self._count.get(prefix, 0)
        self._count[prefix] = i + 1
        return f"{prefix}_{i}"

    def const(self, arr, prefix: str, dtype=np.float32) -> str:
        name = self._uniq(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: Sequence[str], n_out: int = 1, domain: str = "", **attrs):
        name = self._uniq(op)
        outs = [f"{name}_out{i}" if n_out > 1 else f"{name}_out" for i in range(n_out)]
        self.nodes.append(
            helper.make_node(op, list(inputs), outs, name=name, domain=domain, **attrs)
        )
        return outs if n_out > 1 else outs[0]

    # ---- graph input ----------------------------------------------------------------------
    def input(self, shape: Sequence[int | str], name: str = "global_in") -> T:
        shape = list(shape)
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        calib_shape = (N_CALIB, *[int(d) for d in shape[1:]])
        val = self.rng.uniform(self.lo, self.hi, size=calib_shape).astype(np.float32)
        return T(name, val)

    # ---- quantizers -----------------------------------------------------------------------
    def quant(
        self,
        x: T,
        scale,
        bits: int,
        signed: bool,
        narrow: bool,
        rounding_mode: str = "ROUND",
        check_levels: bool = True,
        numpy_rounding: str | None = None,
    ) -> T:
        scale = np.asarray(scale, dtype=np.float32)
        ins = [
            x.name,
            self.const(scale, "scale"),
            self.const(np.float32(0.0), "zeropt"),
            self.const(np.float32(bits), "bitwidth"),
        ]
        out = self.node(
            "Quant",
            ins,
            domain=QONNX_DOMAIN,
            signed=int(signed),
            narrow=int(narrow),
            rounding_mode=rounding_mode,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            val = int_quant(
                x.val,
                scale,
                np.float32(0.0),
                np.float32(bits),
                int(signed),
                int(narrow),
                numpy_rounding or rounding_mode,
            ).astype(np.float32)
        if check_levels:
            self._check_levels(out, val, 3 if bits > 1 else 2)
        return T(out, val)

    def bipolar(self, x: T, scale=1.0, check_levels: bool = True) -> T:
        scale = np.asarray(scale, dtype=np.float32)
        out = self.node("BipolarQuant", [x.name, self.const(scale, "scale")], domain=QONNX_DOMAIN)
        val = (np.where(x.val >= 0, 1.0, -1.0) * scale).astype(np.float32)
        if check_levels:
            self._check_levels(out, val, 2)
        return T(out, val)

    @staticmethod
    def _check_levels(name: str, val: np.ndarray, need: int) -> None:
        levels = np.unique(val).size
        if levels < need:
            raise RuntimeError(
                f"calibration: {name} takes only {levels} distinct value(s); need >= {need}"
            )

    # ---- weights --------------------------------------------------------------------------
    def float_weight(self, shape: Sequence[int], fan_in: int, spread=None) -> np.ndarray:
        w = self.rng.normal(0.0, 1.0 / math.sqrt(fan_in), size=tuple(shape))
        if spread is not None:
            w = w * spread
        return w.astype(np.float32)

    def qweight(
        self,
        shape: Sequence[int],
        bits: int = 4,
        signed: bool = True,
        narrow: bool = True,
        fan_in: int | None = None,
        per_channel_axis: int | None = None,
        pow2: bool = False,
    ) -> T:
        """Float initializer -> Quant. ``per_channel_axis`` is the output-channel axis of the
        weight; the scale then has that axis's size there and 1 elsewhere. ``pow2`` rounds a
        per-tensor scale up to a power of two (QKeras' quantized_bits)."""
        fan_in = fan_in or shape[0]
        spread = None
        if per_channel_axis is not None:
            # give output channels quite different magnitudes so per-channel scales matter
            sshape = [1] * len(shape)
            sshape[per_channel_axis] = shape[per_channel_axis]
            spread = self.rng.uniform(0.25, 2.0, size=sshape)
        w = self.float_weight(shape, fan_in, spread)
        qmax = max_int(signed, narrow, bits)
        if per_channel_axis is None:
            scale = np.float32(np.abs(w).max() / qmax)
            if pow2:
                scale = np.float32(2.0 ** math.ceil(math.log2(scale)))
        else:
            axes = tuple(a for a in range(len(shape)) if a != per_channel_axis)
            scale = (np.abs(w).max(axis=axes, keepdims=True) / qmax).astype(np.float32)
        w_name = self.const(w, "weight")
        return self.quant(T(w_name, w), scale, bits, signed, narrow, check_levels=False)

    def bipolar_weight(self, shape: Sequence[int], scale=1.0) -> T:
        w = self.float_weight(shape, shape[0])
        return self.bipolar(T(self.const(w, "weight"), w), scale, check_levels=False)

    # ---- standard ops -------------------------------------------------------------------
    def matmul(self, x: T, w: T) -> T:
        return T(self.node("MatMul", [x.name, w.name]), (x.val @ w.val).astype(np.float32))

    def gemm_transb(self, x: T, w: T) -> T:
        return T(
            self.node("Gemm", [x.name, w.name], transB=1), (x.val @ w.val.T).astype(np.float32)
        )

    def _binary(self, op: str, x: T, c, fn, prefix: str) -> T:
        c = np.asarray(c, dtype=np.float32)
        return T(self.node(op, [x.name, self.const(c, prefix)]), fn(x.val, c).astype(np.float32))

    def add(self, x: T, c, prefix="bias") -> T:
        return self._binary("Add", x, c, np.add, prefix)

    def sub(self, x: T, c, prefix="mean") -> T:
        return self._binary("Sub", x, c, np.subtract, prefix)

    def mul(self, x: T, c, prefix="mul") -> T:
        return self._binary("Mul", x, c, np.multiply, prefix)

    def div(self, x: T, c, prefix="std") -> T:
        return self._binary("Div", x, c, np.divide, prefix)

    def qbias(self, x: T, bits: int = 8, std: float = 0.1) -> T:
        """Add of a bias that is itself quantized: initializer -> Quant (power-of-two scale)."""
        c = self.rng.normal(0.0, std, size=x.val.shape[1:]).astype(np.float32)
        scale = np.float32(2.0 ** math.ceil(math.log2(np.abs(c).max() / max_int(1, 0, bits))))
        q = self.quant(T(self.const(c, "bias"), c), scale, bits, True, False, check_levels=False)
        return T(self.node("Add", [x.name, q.name]), (x.val + q.val).astype(np.float32))

    def bias(self, x: T, std: float = 0.1) -> T:
        return self.add(x, self.rng.normal(0.0, std, size=x.val.shape[1:]))

    def relu(self, x: T) -> T:
        return T(self.node("Relu", [x.name]), np.maximum(x.val, 0).astype(np.float32))

    def unary(self, op: str, x: T, fn) -> T:
        return T(self.node(op, [x.name]), fn(x.val).astype(np.float32))

    def batchnorm(self, x: T, center: str = "mean") -> T:
        """BatchNormalization whose statistics come from the calibration batch (jittered) and
        whose gammas have random signs (at least one negative) and magnitudes."""
        c = x.val.shape[1]
        mu = np.median(x.val, axis=0) if center == "median" else x.val.mean(axis=0)
        std = x.val.std(axis=0) + 1e-3
        mean = mu + 0.1 * std * self.rng.normal(size=c)
        var = (std**2) * self.rng.uniform(0.7, 1.3, size=c)
        sign = self.rng.choice([-1.0, 1.0], size=c)
        sign[self.rng.integers(c)] = -1.0
        gamma = sign * self.rng.uniform(0.5, 1.5, size=c)
        beta = self.rng.normal(0.0, 0.25, size=c) if center == "mean" else np.zeros(c)
        ins = [x.name] + [self.const(a, p) for a, p in zip((gamma, beta, mean, var), _BN_NAMES)]
        out = self.node("BatchNormalization", ins, epsilon=BN_EPS)
        y = (x.val - mean) / np.sqrt(var + BN_EPS) * gamma + beta
        return T(out, y.astype(np.float32))

    def flatten(self, x: T) -> T:
        return T(self.node("Flatten", [x.name], axis=1), x.val.reshape(x.val.shape[0], -1))

    def reshape(self, x: T, shape: Sequence[int]) -> T:
        shape_name = self.const(np.array(shape), "shape", dtype=np.int64)
        out = self.node("Reshape", [x.name, shape_name])
        return T(out, x.val.reshape(x.val.shape[0], *shape[1:]))

    def softmax(self, x: T) -> T:
        e = np.exp(x.val - x.val.max(axis=-1, keepdims=True))
        return T(self.node("Softmax", [x.name], axis=-1), (e / e.sum(-1, keepdims=True)))

    def topk1(self, x: T) -> tuple[T, T]:
        k = self.const(np.array([1]), "k", dtype=np.int64)
        vals, idx = self.node("TopK", [x.name, k], n_out=2, axis=-1, largest=1, sorted=1)
        i = np.argmax(x.val, axis=-1)[:, None]
        return T(vals, np.take_along_axis(x.val, i, axis=-1)), T(idx, i.astype(np.int64))

    # ---- compound layers ------------------------------------------------------------------
    def act_quant(
        self,
        x: T,
        bits: int = 4,
        signed: bool = False,
        narrow: bool = False,
        pow2: bool = True,
        rounding_mode: str = "ROUND",
        numpy_rounding: str | None = None,
    ) -> T:
        scale = act_scale(x.val, bits, signed, narrow, pow2)
        return self.quant(x, scale, bits, signed, narrow, rounding_mode, True, numpy_rounding)

    def input_quant(self, x: T, bits: int = 8, signed: bool = True) -> T:
        """Quantizer on the (preprocessed) input, power-of-two scale covering its range."""
        scale = act_scale(x.val, bits, signed, False, pow2=True, quantile=1.0)
        return self.quant(x, scale, bits, signed, False)

    def conv(self, x: T, w: T, dilation: int) -> T:
        out = self.node(
            "Conv",
            [x.name, w.name],
            dilations=[dilation, dilation],
            kernel_shape=list(w.val.shape[2:]),
            pads=[0, 0, 0, 0],
            strides=[1, 1],
            group=1,
        )
        n, _, h, wd = x.val.shape
        co, _, kh, kw = w.val.shape
        ho, wo = h - dilation * (kh - 1), wd - dilation * (kw - 1)
        y = np.zeros((n, co, ho, wo), dtype=np.float32)
        for i in range(kh):
            for j in range(kw):
                patch = x.val[
                    :, :, i * dilation : i * dilation + ho, j * dilation : j * dilation + wo
                ]
                y += np.einsum("nchw,oc->nohw", patch, w.val[:, :, i, j])
        return T(out, y)

    # ---- finish ---------------------------------------------------------------------------
    def finish(self, outputs: Sequence[T], batch: int | str = 1) -> ModelWrapper:
        outs = []
        for t in outputs:
            elem = TensorProto.INT64 if t.val.dtype == np.int64 else TensorProto.FLOAT
            outs.append(helper.make_tensor_value_info(t.name, elem, [batch, *t.val.shape[1:]]))
        graph = helper.make_graph(self.nodes, "bitfab_qonnx_factory", self.inputs, outs, self.inits)
        model = qonnx_make_model(
            graph,
            producer_name="bitfab.tests.qonnx_factory",
            opset_imports=[
                helper.make_opsetid("", ONNX_OPSET),
                helper.make_opsetid(QONNX_DOMAIN, QONNX_OPSET),
            ],
        )
        # cleanup=False keeps the builder's (exporter-like) node order; qonnx's cleanup would
        # re-sort it, hoisting the weight Quants to the top
        mw = ModelWrapper(model).transform(InferShapes(), cleanup=False)
        mw.set_metadata_prop(INPUT_RANGE_KEY, f"{self.lo:g},{self.hi:g}")
        return mw


_BN_NAMES = ("bn_gamma", "bn_beta", "bn_mean", "bn_var")


def act_scale(
    val: np.ndarray,
    bits: int,
    signed: bool,
    narrow: bool,
    pow2: bool,
    quantile: float = 0.99,
) -> np.float32:
    """A per-tensor scale such that ``quantile`` of the calibration values fit the integer
    range. ``pow2`` rounds it to a power of two; otherwise it is nudged off any power of two."""
    ref = np.abs(val) if signed else np.maximum(val, 0)
    q = float(np.quantile(ref, quantile))
    if q <= 0:
        q = float(ref.max()) or 1.0
    s = q / max_int(signed, narrow, bits)
    if pow2:
        return np.float32(2.0 ** math.ceil(math.log2(s)))
    if abs(math.log2(s) - round(math.log2(s))) < 0.05:
        s *= 1.17
    return np.float32(s)


def input_range(model: ModelWrapper) -> tuple[float, float]:
    """The float input range a factory model expects (its ``bitfab.input_range``)."""
    lo, hi = model.get_metadata_prop(INPUT_RANGE_KEY).split(",")
    return float(lo), float(hi)


# ======================================================================================
# Valid models
# ======================================================================================


def preproc_mlp(seed: int, preproc: str = "subdiv") -> ModelWrapper:
    """Input preprocessing -> 8-bit input Quant -> 2 x [Quant(W) MatMul BN Relu Quant(u4)]
    -> Quant(W) MatMul -> Add bias.

    ``preproc="subdiv"``: input in [0, 1], ``Sub`` per-feature mean, ``Div`` per-feature std.
    ``preproc="muladd"``: raw input in [0, 255], ``Mul`` 1/127.5 then ``Add`` -1 (scalars).
    """
    if preproc == "subdiv":
        b = _Builder(seed, (0.0, 1.0))
        x = b.input([1, 24])
        x = b.sub(x, b.rng.uniform(0.4, 0.6, size=24))
        x = b.div(x, b.rng.uniform(0.2, 0.35, size=24))
    elif preproc == "muladd":
        b = _Builder(seed, (0.0, 255.0))
        x = b.input([1, 24])
        x = b.mul(x, np.float32(1.0 / 127.5))
        x = b.add(x, np.float32(-1.0), prefix="offset")
    else:
        raise ValueError(f"preproc must be 'subdiv' or 'muladd', not {preproc!r}")
    x = b.input_quant(x, bits=8, signed=True)
    for mw, mh in ((24, 32), (32, 16)):
        x = b.matmul(x, b.qweight([mw, mh], bits=4, signed=True, narrow=True))
        x = b.batchnorm(x)
        x = b.relu(x)
        x = b.act_quant(x, bits=4, signed=False)
    x = b.matmul(x, b.qweight([16, 10], bits=4, signed=True, narrow=True))
    x = b.bias(x)
    return b.finish([x])


def gemm_bias(seed: int, topk_outputs: str = "indices") -> ModelWrapper:
    """8-bit input Quant -> 2 x [Gemm(transB=1, bias-free Quant(W)) Add bias Quant(s3 narrow)]
    -> Gemm Add -> TopK(k=1). ``topk_outputs`` is ``"indices"`` or ``"both"`` (values, indices)."""
    b = _Builder(seed, (-1.0, 1.0))
    x = b.input([1, 32])
    x = b.input_quant(x, bits=8, signed=True)
    for mw, mh in ((32, 24), (24, 16)):
        x = b.gemm_transb(x, b.qweight([mh, mw], bits=4, signed=True, narrow=True, fan_in=mw))
        x = b.bias(x)
        x = b.act_quant(x, bits=3, signed=True, narrow=True, pow2=False)
    x = b.gemm_transb(x, b.qweight([10, 16], bits=4, signed=True, narrow=True, fan_in=16))
    x = b.bias(x)
    vals, idx = b.topk1(x)
    if topk_outputs == "indices":
        return b.finish([idx])
    if topk_outputs == "both":
        return b.finish([vals, idx])
    raise ValueError(f"topk_outputs must be 'indices' or 'both', not {topk_outputs!r}")


def bipolar_mlp(seed: int) -> ModelWrapper:
    """XNOR-style: BipolarQuant input -> 2 x [MatMul(BipolarQuant(W)) BN BipolarQuant]
    -> MatMul(BipolarQuant(W)) -> per-channel Mul + Add."""
    b = _Builder(seed, (-1.0, 1.0))
    x = b.input([1, 32])
    x = b.bipolar(x)
    for mw, mh in ((32, 32), (32, 24)):
        x = b.matmul(x, b.bipolar_weight([mw, mh]))
        x = b.batchnorm(x, center="median")
        x = b.bipolar(x)
    x = b.matmul(x, b.bipolar_weight([24, 10]))
    x = b.mul(x, b.rng.uniform(0.05, 0.2, size=10), prefix="affine_scale")
    x = b.add(x, b.rng.normal(0.0, 0.5, size=10), prefix="affine_bias")
    return b.finish([x])


def rounding_variants(
    seed: int,
    rounding_mode: str = "ROUND",
    signed: bool = True,
    narrow: bool = False,
    bits: int = 4,
) -> ModelWrapper:
    """8-bit input Quant -> Quant(W) MatMul Add -> activation Quant(bits, signed, narrow,
    rounding_mode) -> Quant(W) MatMul Add. No Relu: an unsigned activation Quant clamps at 0.

    ``rounding_mode`` is written to the node as given. qonnx 1.0 runs ROUND, HALF_EVEN, CEIL,
    FLOOR, UP, DOWN, HALF_UP and HALF_DOWN; Brevitas' ``"ROUND_TO_ZERO"`` (qonnx: ``"DOWN"``)
    builds but does not execute.
    """
    b = _Builder(seed, (-1.0, 1.0))
    x = b.input([1, 16])
    x = b.input_quant(x, bits=8, signed=True)
    x = b.matmul(x, b.qweight([16, 24], bits=4, signed=True, narrow=True))
    x = b.bias(x)
    numpy_rounding = _BREVITAS_TO_QONNX_ROUNDING.get(rounding_mode.upper(), rounding_mode)
    x = b.act_quant(
        x,
        bits,
        signed,
        narrow,
        pow2=False,
        rounding_mode=rounding_mode,
        numpy_rounding=numpy_rounding,
    )
    x = b.matmul(x, b.qweight([24, 10], bits=4, signed=True, narrow=True))
    x = b.bias(x)
    return b.finish([x])


_BREVITAS_TO_QONNX_ROUNDING = {"ROUND_TO_ZERO": "DOWN"}

# name -> rounding_variants keyword arguments (all executable by qonnx 1.0)
ROUNDING_VARIANTS: dict[str, dict] = {
    "quant_round_signed": {"rounding_mode": "ROUND", "signed": True, "narrow": False},
    "quant_round_to_zero_signed": {"rounding_mode": "DOWN", "signed": True, "narrow": True},
    "quant_round_to_zero_unsigned": {"rounding_mode": "DOWN", "signed": False, "narrow": False},
    "quant_floor_signed_narrow": {"rounding_mode": "FLOOR", "signed": True, "narrow": True},
    "quant_ceil_unsigned": {"rounding_mode": "CEIL", "signed": False, "narrow": False},
    "quant_half_up_unsigned_narrow": {"rounding_mode": "HALF_UP", "signed": False, "narrow": True},
}


def per_channel_scales(seed: int, layout: str = "matmul") -> ModelWrapper:
    """8-bit unsigned input Quant -> Quant(W, per-output-channel scale) -> Add bias -> Relu
    -> Quant(u4, non-power-of-two scale) -> per-channel Quant(W) -> Add -> Softmax.

    ``layout="matmul"``: MatMul with weights [MW, MH], scale shape [1, MH].
    ``layout="gemm"``: Gemm(transB=1) with weights [MH, MW], scale shape [MH, 1].
    """
    if layout not in ("matmul", "gemm"):
        raise ValueError(f"layout must be 'matmul' or 'gemm', not {layout!r}")
    b = _Builder(seed, (0.0, 1.0))
    x = b.input([1, 20])
    x = b.input_quant(x, bits=8, signed=False)

    def layer(x: T, mw: int, mh: int) -> T:
        if layout == "matmul":
            w = b.qweight([mw, mh], bits=4, signed=True, narrow=True, per_channel_axis=1)
            return b.matmul(x, w)
        w = b.qweight([mh, mw], bits=4, signed=True, narrow=True, fan_in=mw, per_channel_axis=0)
        return b.gemm_transb(x, w)

    x = layer(x, 20, 24)
    # inputs in [0, 1] give a large common offset; a centring bias keeps the ReLU half-open
    x = b.add(x, -x.val.mean(axis=0) + b.rng.normal(0.0, 0.1, size=24))
    x = b.relu(x)
    x = b.act_quant(x, bits=4, signed=False, pow2=False)
    x = layer(x, 24, 10)
    x = b.bias(x)
    x = b.softmax(x)
    return b.finish([x])


def flatten_reshape(seed: int, mode: str = "flatten") -> ModelWrapper:
    """Input [1, 1, 4, 4] -> Flatten/Reshape -> quantized MLP.

    ``mode="flatten"``: Quant(u8) on the 4-D input, then ``Flatten(axis=1)`` (Brevitas-like).
    ``mode="reshape"``: ``Reshape`` to [1, -1] first, then Quant(u8).
    Then Quant(W) MatMul BN Relu Quant(u4) -> Quant(W) MatMul -> Add bias.
    """
    b = _Builder(seed, (0.0, 1.0))
    x = b.input([1, 1, 4, 4])
    if mode == "flatten":
        x = b.flatten(b.input_quant(x, bits=8, signed=False))
    elif mode == "reshape":
        x = b.input_quant(b.reshape(x, [1, -1]), bits=8, signed=False)
    else:
        raise ValueError(f"mode must be 'flatten' or 'reshape', not {mode!r}")
    x = b.matmul(x, b.qweight([16, 32], bits=4, signed=True, narrow=True))
    x = b.batchnorm(x)
    x = b.relu(x)
    x = b.act_quant(x, bits=4, signed=False)
    x = b.matmul(x, b.qweight([32, 10], bits=4, signed=True, narrow=True))
    x = b.bias(x)
    return b.finish([x])


def relu_quant_order(seed: int, order: str = "relu_then_quant") -> ModelWrapper:
    """8-bit input Quant -> 2 x [Quant(W) MatMul BN act] -> Quant(W) MatMul, where act is
    ``Relu -> Quant(u4)`` (``order="relu_then_quant"``) or ``Quant(s4) -> Relu``
    (``order="quant_then_relu"``)."""
    if order not in ("relu_then_quant", "quant_then_relu"):
        raise ValueError(f"order must be 'relu_then_quant' or 'quant_then_relu', not {order!r}")
    b = _Builder(seed, (-1.0, 1.0))
    x = b.input([1, 16])
    x = b.input_quant(x, bits=8, signed=True)
    for mw, mh in ((16, 32), (32, 16)):
        x = b.matmul(x, b.qweight([mw, mh], bits=4, signed=True, narrow=True))
        x = b.batchnorm(x)
        if order == "relu_then_quant":
            x = b.act_quant(b.relu(x), bits=4, signed=False)
        else:
            x = b.relu(b.act_quant(x, bits=4, signed=True))
    x = b.matmul(x, b.qweight([16, 10], bits=4, signed=True, narrow=True))
    return b.finish([x])


def relu_then_quant(seed: int) -> ModelWrapper:
    """MLP whose activations are Relu -> Quant(unsigned 4-bit)."""
    return relu_quant_order(seed, "relu_then_quant")


def quant_then_relu(seed: int) -> ModelWrapper:
    """MLP whose activations are Quant(signed 4-bit) -> Relu."""
    return relu_quant_order(seed, "quant_then_relu")


def qkeras_mlp(seed: int) -> ModelWrapper:
    """hls4ml/QKeras-style: a float input straight into MatMul(Quant(W)) Add(Quant(bias)),
    Relu Quant(u6), MatMul(Quant(W)) Add(Quant(bias)), Softmax. Power-of-two scales, as
    quantized_bits/quantized_relu export them. Needs ``--input-fixed`` to build."""
    b = _Builder(seed, (-4.0, 4.0))
    x = b.input([1, 16])
    for mw, mh, last in ((16, 32, False), (32, 10, True)):
        x = b.matmul(x, b.qweight([mw, mh], bits=6, signed=True, narrow=False, pow2=True))
        x = b.qbias(x, bits=8)
        if last:
            return b.finish([b.softmax(x)])
        x = b.act_quant(b.relu(x), bits=6, signed=False)
    raise AssertionError("unreachable")


def symbolic_dims(seed: int, where: str = "batch") -> ModelWrapper:
    """Quantized MLP with symbolic dimensions as some exporters leave them: ``"batch"`` gives
    the input and output batch the symbol ``N``, ``"output"`` keeps the input static and
    leaves the output ``[N, classes]`` and one intermediate tensor symbolic."""
    b = _Builder(seed, (-1.0, 1.0))
    x = b.input(["N", 16] if where == "batch" else [1, 16])
    x = _small_qmlp(b, x)
    if where == "batch":
        return b.finish([x], batch="N")
    m = b.finish([x])
    dims = m.graph.output[0].type.tensor_type.shape.dim
    dims[0].Clear()
    dims[0].dim_param = "N"
    dims[1].Clear()
    dims[1].dim_param = "classes"
    vi = m.graph.value_info[len(m.graph.value_info) // 2]
    for d in vi.type.tensor_type.shape.dim:
        d.Clear()
        d.dim_param = "unk"
    return m


# ======================================================================================
# Bad models (the compiler must reject these with a clear error)
# ======================================================================================


def float_only(seed: int) -> ModelWrapper:
    """A float MLP without any quantizer: MatMul Add Relu MatMul Add."""
    b = _Builder(seed, (0.0, 1.0))
    x = b.input([1, 16])
    w1 = b.float_weight([16, 32], 16)
    x = b.relu(b.bias(b.matmul(x, T(b.const(w1, "weight"), w1))))
    w2 = b.float_weight([32, 10], 32)
    x = b.bias(b.matmul(x, T(b.const(w2, "weight"), w2)))
    return b.finish([x])


def _small_qmlp(b: _Builder, x: T, weight_bits: int = 4, between=None) -> T:
    """Quant(s8) -> Quant(W) MatMul Add Relu Quant(u4) -> [between] -> Quant(W) MatMul."""
    x = b.input_quant(x, bits=8, signed=True)
    x = b.matmul(x, b.qweight([16, 32], bits=weight_bits, signed=True, narrow=True))
    x = b.act_quant(b.relu(b.bias(x)), bits=4, signed=False)
    if between is not None:
        x = between(x)
    return b.matmul(x, b.qweight([32, 10], bits=weight_bits, signed=True, narrow=True))


def unsupported_op(seed: int, op: str = "Cos") -> ModelWrapper:
    """Quantized MLP with an elementwise ``Cos`` (or ``Sin``) between the two layers."""
    fns = {"Cos": np.cos, "Sin": np.sin}
    if op not in fns:
        raise ValueError(f"op must be one of {sorted(fns)}, not {op!r}")
    b = _Builder(seed, (-1.0, 1.0))
    x = _small_qmlp(b, b.input([1, 16]), between=lambda t: b.unary(op, t, fns[op]))
    return b.finish([x])


def conv_dilation(seed: int) -> ModelWrapper:
    """Input [1, 1, 8, 8] -> Quant(u8) -> 3x3 Conv with dilations [2, 2] on Quant(W) -> Relu
    -> Quant(u4) -> Flatten -> Quant(W) MatMul."""
    b = _Builder(seed, (0.0, 1.0))
    x = b.input_quant(b.input([1, 1, 8, 8]), bits=8, signed=False)
    w = b.qweight([4, 1, 3, 3], bits=4, signed=True, narrow=True, fan_in=9)
    x = b.conv(x, w, dilation=2)  # -> [1, 4, 4, 4]
    x = b.act_quant(b.relu(x), bits=4, signed=False)
    x = b.flatten(x)
    x = b.matmul(x, b.qweight([64, 10], bits=4, signed=True, narrow=True))
    return b.finish([x])


def dynamic_features(seed: int) -> ModelWrapper:
    """Quantized MLP whose input feature dimension is the symbol ``F``: nothing can infer it."""
    b = _Builder(seed, (-1.0, 1.0))
    x = b.input([1, 16])
    x = _small_qmlp(b, x)
    m = b.finish([x])
    d = m.graph.input[0].type.tensor_type.shape.dim[1]
    d.Clear()
    d.dim_param = "F"
    return m


def wide_weights(seed: int, bits: int = 12) -> ModelWrapper:
    """Quantized MLP whose weight Quants are ``bits`` wide (9..16) and feed MatMul."""
    if not 9 <= bits <= 16:
        raise ValueError(f"bits must be in 9..16, not {bits}")
    b = _Builder(seed, (-1.0, 1.0))
    x = _small_qmlp(b, b.input([1, 16]), weight_bits=bits)
    return b.finish([x])


def zero_scale(seed: int) -> ModelWrapper:
    """Quantized MLP whose second activation Quant has scale 0 (executing it gives 0/NaN)."""
    b = _Builder(seed, (-1.0, 1.0))
    x = _small_qmlp(
        b,
        b.input([1, 16]),
        between=lambda t: b.quant(t, np.float32(0.0), 4, False, False, check_levels=False),
    )
    return b.finish([x])


# ======================================================================================
# Valid QONNX that qonnx 1.0's executor cannot run
# ======================================================================================


def round_to_zero_brevitas(seed: int) -> ModelWrapper:
    """``rounding_variants`` with the Brevitas spelling ``rounding_mode="ROUND_TO_ZERO"``
    (signed 4-bit). Valid QONNX from Brevitas; qonnx 1.0 raises ValueError executing it."""
    return rounding_variants(seed, rounding_mode="ROUND_TO_ZERO", signed=True, narrow=False)


# ======================================================================================
# Registries
# ======================================================================================

Factory = Callable[[int], ModelWrapper]

FACTORIES: dict[str, Factory] = {
    "preproc_mlp": preproc_mlp,
    "preproc_mlp_muladd": functools.partial(preproc_mlp, preproc="muladd"),
    "gemm_bias": gemm_bias,
    "gemm_bias_topk_both": functools.partial(gemm_bias, topk_outputs="both"),
    "bipolar_mlp": bipolar_mlp,
    **{name: functools.partial(rounding_variants, **kw) for name, kw in ROUNDING_VARIANTS.items()},
    "per_channel_scales": per_channel_scales,
    "per_channel_scales_gemm": functools.partial(per_channel_scales, layout="gemm"),
    "flatten_mlp": flatten_reshape,
    "reshape_mlp": functools.partial(flatten_reshape, mode="reshape"),
    "relu_then_quant": relu_then_quant,
    "quant_then_relu": quant_then_relu,
}

# valid QONNX with symbolic dimensions, which the compiler resolves at batch 1 (qonnx's
# executor needs the static shapes, so these are not in FACTORIES)
SYMBOLIC_FACTORIES: dict[str, Factory] = {
    "symbolic_batch": symbolic_dims,
    "symbolic_output": functools.partial(symbolic_dims, where="output"),
}

# valid QONNX that builds only with an option: name -> (factory, extra CLI arguments)
OPTION_FACTORIES: dict[str, tuple[Factory, list[str]]] = {
    "qkeras_mlp": (qkeras_mlp, ["--input-fixed", "16,6"]),
}

BAD_FACTORIES: dict[str, Factory] = {
    "float_only": float_only,
    "unsupported_op": unsupported_op,
    "conv_dilation": conv_dilation,
    "dynamic_features": dynamic_features,
    "wide_weights": wide_weights,
    "zero_scale": zero_scale,
}

UNEXECUTABLE_FACTORIES: dict[str, Factory] = {
    "round_to_zero_brevitas": round_to_zero_brevitas,
}
