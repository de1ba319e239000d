"""Build the QONNX model a ``NetSpec`` describes, on top of the test factories' ``_Builder``.

``_Builder`` already knows qonnx 1.0's Quant/BipolarQuant semantics and pushes a calibration
batch through a numpy copy of the net, so activation scales and BatchNorm statistics fit the
values that actually arrive (no layer is all saturated). This module adds what the FC
factories lack: strided/padded convolutions, MaxPool, channel-axis BatchNorm for NCHW,
power-of-two weight scales and per-layer weight seeds (so dropping one layer while shrinking
leaves the other layers' weights as they were), depthwise convolutions, and average pools in
both of Brevitas' export flavours (the pool and a Trunc, or the pool and a Quant).
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import max_int
from qonnx.custom_op.general.trunc import trunc_v2

from tests.fuzz.spec import LayerSpec, NetSpec, QuantSpec, avg_window, trunc_in_bits
from tests.qonnx_factory import BN_EPS, QONNX_DOMAIN, T, _Builder, act_scale


def _pow2_up(s: np.ndarray) -> np.ndarray:
    return (2.0 ** np.ceil(np.log2(s))).astype(np.float32)


class FuzzBuilder(_Builder):
    """``_Builder`` plus the conv-net pieces and spec-driven quantizers."""

    # ---- quantizers -----------------------------------------------------------------------
    def weight(self, shape: tuple[int, ...], q: QuantSpec, fan_in: int, axis: int | None) -> T:
        """Float weights -> quantizer. ``axis``: output-channel axis of a per-channel scale."""
        spread = None
        sshape = [1] * len(shape)
        if axis is not None:
            sshape[axis] = shape[axis]
            spread = self.rng.uniform(0.25, 2.0, size=sshape)
        w = self.float_weight(shape, fan_in, spread)
        w_name = self.const(w, "weight")
        if q.bipolar:
            scale = np.float32(1.0)
            if axis is not None:
                scale = self.rng.uniform(0.05, 1.0, size=sshape).astype(np.float32)
            elif not q.pow2:
                scale = np.float32(self.rng.uniform(0.05, 1.0))
            if q.pow2:
                scale = _pow2_up(np.asarray(scale))
            return self.bipolar(T(w_name, w), scale, check_levels=False)
        qmax = max_int(q.signed, q.narrow, q.bits)
        axes = tuple(a for a in range(len(shape)) if a != axis)
        m = np.abs(w).max(axis=axes, keepdims=True) if axis is not None else np.abs(w).max()
        scale = np.asarray(np.maximum(m, 1e-6) / qmax, np.float32)
        if q.pow2:
            scale = _pow2_up(scale)
        return self.quant(T(w_name, w), scale, q.bits, q.signed, q.narrow, check_levels=False)

    def act(self, x: T, q: QuantSpec, quantile: float = 0.99) -> T:
        """Activation (or input) quantizer with a scale calibrated on the batch."""
        if q.bipolar:
            scale = np.float32(1.0) if q.pow2 else np.float32(self.rng.uniform(0.2, 2.0))
            return self.bipolar(x, scale, check_levels=False)
        scale = act_scale(x.val, q.bits, q.signed, q.narrow, q.pow2, quantile)
        self.last_act = (q, scale)  # a residual block's main path ends in this quantizer
        return self.quant(x, scale, q.bits, q.signed, q.narrow, q.rounding, check_levels=False)

    # ---- layers ---------------------------------------------------------------------------
    def conv2d(
        self, x: T, w: T, stride: int, pad: int, bias: np.ndarray | None, group: int = 1
    ) -> T:
        """A Conv; ``group`` = the channels (weights ``[C, 1, k, k]``) makes it depthwise."""
        ins = [x.name, w.name] + ([self.const(bias, "conv_bias")] if bias is not None else [])
        attrs = {"group": group} if group > 1 else {}
        out = self.node(
            "Conv",
            ins,
            kernel_shape=list(w.val.shape[2:]),
            pads=[pad] * 4,
            strides=[stride, stride],
            **attrs,
        )
        xv = np.pad(x.val, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        n, _, h, wd = xv.shape
        co, _, k, _ = w.val.shape
        ho, wo = (h - k) // stride + 1, (wd - k) // stride + 1
        y = np.zeros((n, co, ho, wo), dtype=np.float32)
        for i in range(k):
            for j in range(k):
                patch = xv[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride]
                if group > 1:
                    y += patch * w.val[None, :, 0, i, j, None, None]
                else:
                    y += np.einsum("nchw,oc->nohw", patch, w.val[:, :, i, j])
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return T(out, y)

    def maxpool(self, x: T) -> T:
        out = self.node("MaxPool", [x.name], kernel_shape=[2, 2], strides=[2, 2])
        n, c, h, w = x.val.shape
        v = x.val[:, :, : 2 * (h // 2), : 2 * (w // 2)].reshape(n, c, h // 2, 2, w // 2, 2)
        return T(out, v.max(axis=(3, 5)))

    def avgpool(self, x: T, lay: LayerSpec) -> T:
        """The pool (``lay.avg_op``) and its quantizer: a Trunc from the input activation's
        quantizer (``self.last_act``) as Brevitas' TruncAvgPool2d exports it (scale
        s_x/(k*k), input bits widened by the sum, output scale 2^(in - out bits) times
        that), or a calibrated Quant (a float AvgPool2d, then a QuantIdentity)."""
        n, c, h, w = x.val.shape
        k, s = avg_window(lay, h, w)
        if lay.avg_op == "AveragePool":
            out = self.node("AveragePool", [x.name], kernel_shape=[k, k], strides=[s, s])
        elif lay.avg_op == "GlobalAveragePool":
            out = self.node("GlobalAveragePool", [x.name])
        else:  # Brevitas' TruncAdaptiveAvgPool2d(1): a mean over H and W
            out = self.node("ReduceMean", [x.name], axes=[-2, -1], keepdims=1)
        ho, wo = (h - k) // s + 1, (w - k) // s + 1
        v = np.zeros((n, c, ho, wo), np.float32)
        for i in range(k):
            for j in range(k):
                v += x.val[:, :, i : i + s * ho : s, j : j + s * wo : s]
        x = T(out, (v / np.float32(k * k)).astype(np.float32))
        q = lay.avg_q
        if lay.avgpool == "quant":
            return self.act(x, q)
        aq, s_x = self.last_act
        in_bits = trunc_in_bits(aq, k)
        scale = np.float32(np.float32(s_x) / np.float32(k * k))
        out_scale = np.float32(scale * np.float32(2.0 ** (in_bits - q.bits)))
        consts = (scale, 0.0, float(in_bits), out_scale, float(q.bits))
        names = ("trunc_scale", "trunc_zeropt", "trunc_in_bits", "trunc_out_scale", "trunc_bits")
        ins = [x.name] + [self.const(np.float32(v), p) for v, p in zip(consts, names)]
        out = self.node(
            "Trunc",
            ins,
            domain=QONNX_DOMAIN,
            rounding_mode=q.rounding,
            signed=int(q.signed),
            narrow=int(q.narrow),
        )
        y = trunc_v2(
            x.val,
            *(np.float32(consts[i]) for i in range(3)),
            int(q.narrow),
            int(q.signed),
            out_scale,
            np.float32(q.bits),
            q.rounding,
        )
        return T(out, np.asarray(y, np.float32))

    def bn_any(self, x: T) -> T:
        """BatchNormalization over axis 1 (FC or NCHW) with calibrated, jittered statistics
        and random-sign gammas (at least one negative)."""
        c = x.val.shape[1]
        axes = tuple(a for a in range(x.val.ndim) if a != 1)
        mu = x.val.mean(axis=axes)
        std = x.val.std(axis=axes) + 1e-3
        mean = mu + 0.1 * std * self.rng.normal(size=c)
        var = (std**2) * self.rng.uniform(0.7, 1.3, size=c)
        sign = self.rng.choice([-1.0, 1.0], size=c)
        sign[self.rng.integers(c)] = -1.0
        gamma = sign * self.rng.uniform(0.5, 1.5, size=c)
        beta = self.rng.normal(0.0, 0.25, size=c)
        names = ("bn_gamma", "bn_beta", "bn_mean", "bn_var")
        ins = [x.name] + [self.const(a, p) for a, p in zip((gamma, beta, mean, var), names)]
        out = self.node("BatchNormalization", ins, epsilon=BN_EPS)
        bshape = [1] * x.val.ndim
        bshape[1] = c
        r = [np.reshape(a, bshape) for a in (mean, var, gamma, beta)]
        y = (x.val - r[0]) / np.sqrt(r[1] + BN_EPS) * r[2] + r[3]
        return T(out, y.astype(np.float32))

    def topk(self, x: T, k: int) -> T:
        kn = self.const(np.array([k]), "k", dtype=np.int64)
        _, idx = self.node("TopK", [x.name, kn], n_out=2, axis=-1, largest=1, sorted=1)
        order = np.argsort(-x.val, axis=-1, kind="stable")[:, :k]
        return T(idx, order.astype(np.int64))

    def argmax(self, x: T) -> T:
        out = self.node("ArgMax", [x.name], axis=-1, keepdims=1)
        return T(out, np.argmax(x.val, axis=-1)[:, None].astype(np.int64))


def _channel_shape(x: T) -> tuple[int, ...]:
    """Shape of a per-channel constant broadcasting along axis 1 of ``x``."""
    return (x.val.shape[1],) if x.val.ndim == 2 else (1, x.val.shape[1], 1, 1)


def _preprocess(b: FuzzBuilder, x: T, spec: NetSpec) -> T:
    if spec.preproc == "subdiv":
        c = _channel_shape(x)
        lo, hi = spec.input_range
        mean = b.rng.uniform(lo + 0.4 * (hi - lo), lo + 0.6 * (hi - lo), size=c)
        x = b.sub(x, mean)
        return b.div(x, b.rng.uniform(0.2, 0.35, size=c) * (hi - lo))
    if spec.preproc == "muladd":
        lo, hi = spec.input_range
        x = b.mul(x, np.float32(2.0 / (hi - lo)))
        return b.add(x, np.float32(-1.0 - 2.0 * lo / (hi - lo)), prefix="offset")
    return x


def _layer(b: FuzzBuilder, x: T, lay: LayerSpec, net_seed: int) -> T:
    b.rng = np.random.default_rng([net_seed, lay.seed])
    if lay.kind == "fc" and x.val.ndim > 2:
        x = b.flatten(x)
    skip = x
    if lay.kind == "conv":
        cin = x.val.shape[1]
        group = cin if lay.depthwise else 1
        shape = (lay.out, cin // group, lay.kernel, lay.kernel)
        fan_in = shape[1] * lay.kernel**2
        w = b.weight(shape, lay.wq, fan_in, 0 if lay.per_channel else None)
        bias = b.rng.normal(0.0, 0.3, size=lay.out) if lay.bias == "input" else None
        x = b.conv2d(x, w, lay.stride, lay.pad, bias, group)
    else:
        mw = x.val.shape[1]
        if lay.gemm:
            w = b.weight((lay.out, mw), lay.wq, mw, 0 if lay.per_channel else None)
            ins = [x.name, w.name]
            y = x.val @ w.val.T
            if lay.bias == "input":
                bias = b.rng.normal(0.0, 0.3, size=lay.out).astype(np.float32)
                ins.append(b.const(bias, "gemm_bias"))
                y = y + bias
            x = T(b.node("Gemm", ins, transB=1), y.astype(np.float32))
        else:
            w = b.weight((mw, lay.out), lay.wq, mw, 1 if lay.per_channel else None)
            x = b.matmul(x, w)
            if lay.bias == "input":  # MatMul has no bias input: an Add like Brevitas' export
                x = b.add(x, b.rng.normal(0.0, 0.3, size=lay.out))
    if lay.bias == "add":
        x = b.add(x, b.rng.normal(0.0, 0.3, size=_channel_shape(x)))
    if lay.bn:
        x = b.bn_any(x)
    if lay.residual:  # end in the skip's own quantizer, then add the skip
        q, scale = b.last_act
        y = b.relu(x) if not q.signed else x
        y = b.quant(y, scale, q.bits, q.signed, q.narrow, q.rounding, check_levels=False)
        x = T(b.node("Add", [y.name, skip.name]), (y.val + skip.val).astype(np.float32))
    if lay.act == "relu_quant":
        x = b.act(b.relu(x), lay.aq)
    elif lay.act == "quant":
        x = b.act(x, lay.aq)
    elif lay.act == "quant_relu":
        x = b.relu(b.act(x, lay.aq))
    if lay.pool:
        x = b.maxpool(x)
    if lay.avgpool != "none":
        x = b.avgpool(x, lay)
    return x


def _tail(b: FuzzBuilder, x: T, spec: NetSpec) -> T:
    b.rng = np.random.default_rng([spec.seed, 7])
    if spec.tail == "muladd":
        c = _channel_shape(x)
        s = b.rng.uniform(0.1, 2.0, size=c) * b.rng.choice([-1.0, 1.0], size=c)
        return b.add(b.mul(x, s, prefix="tail_scale"), b.rng.normal(0, 0.5, c), "tail_bias")
    if spec.tail == "topk":
        return b.topk(x, spec.topk)
    if spec.tail == "argmax":
        return b.argmax(x)
    if spec.tail == "softmax":
        return b.softmax(x)
    return x


def build_model(spec: NetSpec) -> ModelWrapper:
    """The QONNX model of ``spec`` (batch 1, shapes inferred, input range in metadata)."""
    b = FuzzBuilder(spec.seed, spec.input_range)
    x = b.input([1, *spec.input_shape])
    if spec.int_input:
        x = T(x.name, np.floor(x.val))
    x = _preprocess(b, x, spec)
    x = b.act(x, spec.iq, quantile=1.0)
    for lay in spec.layers:
        x = _layer(b, x, lay, spec.seed)
    x = _tail(b, x, spec)
    m = b.finish([x])
    if m.get_nodes_by_op_type("Trunc"):  # Trunc v2 (6 inputs) is qonnx opset 2, as Brevitas
        for op in m.model.opset_import:  # exports it; other nets keep their bytes
            if op.domain == QONNX_DOMAIN:
                op.version = 2
    if spec.int_input:
        m.set_tensor_datatype(m.graph.input[0].name, DataType["UINT8"])
    return m
