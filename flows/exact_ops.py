"""Reference ops with exact accumulation, for verification's rounding re-check.

Domain ``flows.exact_ops``. ``ExactAccumulate`` is a MatMul or a Conv (any group) computed in
float64 with numpy, or a residual Add of two quantizers' outputs (the integers added exactly,
with the multipliers that put two scales on one, ``flows.dyadic``, and scaled once, as the
hardware's StreamAdd and the thresholds after it do). When both operands come
from quantizers with known scales, the integers behind them are summed exactly and scaled
once (so an exactly-zero accumulator stays zero, as in the hardware); otherwise every product
of two float32 values is exact in float64 and only the sum rounds, far below float32. It
writes the float32 rounding to its first output, where the graph's float32 ops continue, and
the float64 value to its second output for the comparison. onnxruntime has no float64 Conv
kernel, so a Cast-to-double graph cannot do this.
"""

from __future__ import annotations

import numpy as np
from qonnx.custom_op.base import CustomOp

from flows.dyadic import scaled_sum


def conv2d_f64(x, w, b, strides, pads, dilations, group: int = 1) -> np.ndarray:
    """NCHW x, OIHW w (I = input channels / group): the ONNX Conv in float64."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    pt, pl, pb, pr = pads
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, _, h, wd = x.shape
    co, cg, kh, kw = w.shape
    wg = w.reshape(group, co // group, cg, kh, kw)
    sh, sw = strides
    dh, dw = dilations
    ho = (h - dh * (kh - 1) - 1) // sh + 1
    wo = (wd - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, co, ho, wo), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * dh : i * dh + sh * ho : sh, j * dw : j * dw + sw * wo : sw]
            pg = patch.reshape(n, group, cg, ho, wo)
            y += np.einsum("ngchw,goc->ngohw", pg, wg[:, :, :, i, j]).reshape(n, co, ho, wo)
    if b is not None:
        y += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return y


def conv_f64(x, w, strides, pads, dilations, group: int = 1) -> np.ndarray:
    """:func:`conv2d_f64`, also for a 1-D Conv (NCL x, OIL w: the 2-D one of height 1)."""
    if np.ndim(x) != 3:
        return conv2d_f64(x, w, None, strides, pads, dilations, group)
    x, w = np.asarray(x)[:, :, None], np.asarray(w)[:, :, None]
    s, d = list(strides)[-1:], list(dilations)[-1:]
    pb, pe = list(pads)[-2:] if len(pads) == 2 else (pads[1], pads[3])
    return conv2d_f64(x, w, None, [1, *s], [0, pb, 0, pe], [1, *d], group)[:, :, 0]


def _exact(x, scale) -> np.ndarray:
    """``x`` in float64; with the scale of the quantizer that produced it, the exact multiple
    ``rint(x / scale) * scale`` that the float32 value rounds."""
    x = np.asarray(x, np.float64)
    if scale is None:
        return x
    s = np.asarray(scale, np.float64)
    return np.rint(x / s) * s


def _output_scale(sa, sb, conv: bool) -> np.ndarray | None:
    """The scale of ``q_a @ q_b`` (per output channel, shaped to broadcast against the
    output) when both operands' scales are known, per-tensor for A and per-tensor or per
    output channel for B; else None."""
    if sa is None or sb is None or sa.size != 1:
        return None
    if sb.size == 1:
        return sa.reshape(()) * sb.reshape(())
    if conv and sb.ndim in (3, 4) and set(sb.shape[1:]) == {1}:  # 1-D or 2-D conv
        return sa.reshape(()) * sb.reshape(1, -1, *sb.shape[2:])
    if not conv and sb.ndim >= 2 and sb.shape[-2] == 1:
        return sa.reshape(()) * sb
    return None


class ExactAccumulate(CustomOp):
    """Inputs: A, B, optional Conv bias, optional scales of A's and B's quantizers."""

    def get_nodeattr_types(self):
        return {
            "kind": ("s", True, ""),  # "MatMul" | "Conv" | "Add" (two quantized operands)
            "strides": ("ints", False, [1, 1]),
            "pads": ("ints", False, [0, 0, 0, 0]),
            "dilations": ("ints", False, [1, 1]),
            "group": ("i", False, 1),
        }

    def make_shape_compatible_op(self, model):
        return super().make_const_shape_op(model.get_tensor_shape(self.onnx_node.output[0]))

    def infer_node_datatype(self, model):
        pass

    def execute_node(self, context, graph):
        n = self.onnx_node
        g = self.get_nodeattr
        ins = list(n.input) + [""] * (5 - len(n.input))
        conv = g("kind") == "Conv"
        a, b = (np.asarray(context[ins[i]], np.float64) for i in (0, 1))
        sa, sb = (
            np.asarray(context[ins[3 + i]], np.float64) if ins[3 + i] else None for i in (0, 1)
        )
        if g("kind") == "Add":  # a residual join: the integers summed exactly, scaled once
            ss = scaled_sum(sa, sb, f"node '{n.name}'")
            y = ss.integers(np.rint(a / sa), np.rint(b / sb)) * np.asarray(ss.scale, np.float64)
            context[n.output[0]] = y.astype(np.float32)
            context[n.output[1]] = y
            return
        out_scale = _output_scale(sa, sb, conv)
        if out_scale is not None:  # integer operands: an exact integer sum, scaled once
            a, b = np.rint(a / sa), np.rint(b / sb)
        else:
            a, b = _exact(a, sa), _exact(b, sb)
        if conv:
            y = conv_f64(a, b, g("strides"), g("pads"), g("dilations"), g("group"))
        else:
            y = np.matmul(a, b)
        if out_scale is not None:
            y = y * out_scale
        y32 = y.astype(np.float32)
        if conv and ins[2]:
            # The compiler lowers a Conv's bias to an Add after the accumulation, which the
            # thresholds evaluate in float32 on the once-rounded accumulator; do the same, so
            # the re-check differs from the hardware only where the hardware is wrong.
            bias = np.asarray(context[ins[2]]).reshape(1, -1, *[1] * (y.ndim - 2))
            y32 = y32 + bias.astype(np.float32)
            y = y + bias.astype(np.float64)
        context[n.output[0]] = y32
        context[n.output[1]] = y

    def verify_node(self):
        return []


__all__ = ["ExactAccumulate"]
