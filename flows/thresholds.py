"""Thresholds by evaluation.

An integer accumulator ``acc`` enters a chain of float32 ops (the graph's own: affine, BN,
Relu) that ends in an activation quantizer. Per channel that chain is a monotone step
function of ``acc``. Rather than moving scales algebraically (where float32 rounding could
differ from the reference), each threshold is found as the smallest accumulator value that
reaches output level k, by running the very same ONNX nodes through qonnx's executor on
candidate accumulators and bisecting over the accumulator's exact range.

Decreasing channels (negative scale or gamma) are handled by negating the channel: the
caller negates that weight column so the hardware always compares ``acc >= T``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model

from flows.errors import UnsupportedError
from flows.passes.infer_shapes import InferShapes
from flows.quantizers import Quantizer

SAMPLES_PER_CHECK = 4


@dataclass(frozen=True)
class ThresholdResult:
    """Thresholds ``[C, L-1]`` over the (possibly negated) accumulator, and which channels
    were negated. Output integer = ``levels[0] + step * count(acc' >= T)``."""

    thresholds: np.ndarray  # int64 [C, n_thres]
    negate: np.ndarray  # bool [C]
    out_bias: int
    out_step: int


class ChainEvaluator:
    """Runs a chain of graph nodes on a batch of accumulator values ``[K, C]``.

    ``to_float`` is the per-channel factor that turns an integer accumulator into the float
    value the reference graph has at the chain's input (the product of the input and weight
    scales); it is applied in float64 and rounded once to float32, the exact value the
    reference computes whenever its float32 MatMul is exact. The batch ``K`` is the number of
    thresholds of ``quant``: the bisection probes one accumulator per threshold and channel.
    """

    def __init__(
        self,
        *,
        model: ModelWrapper,
        nodes: list,
        quantizer_node,
        quant: Quantizer,
        in_tensor: str,
        channels: int,
        to_float: np.ndarray,
        layout_shape: tuple[int, ...] | None = None,
    ):
        self.quant = quant
        self.channels = channels
        if quant.scale.size not in (1, channels):
            raise UnsupportedError(
                f"node '{quant.node_name}': scale of shape {quant.scale.shape} does not match "
                f"{channels} channels; use a per-tensor or per-channel scale"
            )
        self.out_scale = np.broadcast_to(quant.scale.astype(np.float64).ravel(), (channels,))
        batch = len(quant.levels()) - 1  # one probe per threshold
        self.batch = batch
        self.to_float = np.broadcast_to(np.asarray(to_float, np.float64).ravel(), (channels,))
        # Per-channel constants of the graph are shaped for its own layout; the chain is run
        # on a [K, C] tensor (or [K, C, 1, 1] when constants are NCHW-shaped).
        self.shape = (batch, channels) if layout_shape is None else (batch, *layout_shape)
        all_nodes = list(nodes) + [quantizer_node]
        inits = []
        for n in all_nodes:
            for i in n.input:
                arr = model.get_initializer(i)
                if arr is not None and all(t.name != i for t in inits):
                    inits.append(helper.make_tensor(i, _onnx_type(arr), arr.shape, arr.ravel()))
        out = quantizer_node.output[0]
        graph = helper.make_graph(
            [_copy(n) for n in all_nodes],
            "chain",
            [helper.make_tensor_value_info(in_tensor, TensorProto.FLOAT, self.shape)],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, self.shape)],
            initializer=inits,
        )
        onnx_model = qonnx_make_model(graph, opset_imports=model.model.opset_import)
        self.model = ModelWrapper(onnx_model).transform(InferShapes())
        self.in_tensor, self.out_tensor = in_tensor, out

    def levels(self, acc: np.ndarray) -> np.ndarray:
        """Output level index (0..L-1) of the quantizer for accumulators ``acc [K, C]``."""
        x = (acc.astype(np.float64) * self.to_float[None, :]).astype(np.float32)
        y = execute_onnx(self.model, {self.in_tensor: x.reshape(self.shape)})[self.out_tensor]
        y = np.asarray(y, dtype=np.float64).reshape(self.batch, self.channels)
        q = np.rint(y / self.out_scale[None, :])
        if self.quant.bipolar:
            return (q > 0).astype(np.int64)
        return q.astype(np.int64) - self.quant.qmin


def _onnx_type(arr: np.ndarray) -> int:
    return helper.np_dtype_to_tensor_dtype(arr.dtype)


def _copy(node):
    n = type(node)()
    n.CopyFrom(node)
    return n


def compute_thresholds(
    ev: ChainEvaluator, acc_lo: np.ndarray, acc_hi: np.ndarray, where: str
) -> ThresholdResult:
    """Bisect, per channel and level, the smallest accumulator reaching each output level.

    ``acc_lo``/``acc_hi`` are the exact per-channel accumulator bounds. The result is checked
    against the chain on the bounds, at every threshold and just below it, and on random
    accumulators; a chain that is not monotone there is reported, naming ``where``.
    """
    q = ev.quant
    n_levels = len(q.levels())
    n_thres = n_levels - 1
    c = ev.channels
    lo = np.broadcast_to(acc_lo, (c,)).astype(np.int64)
    hi = np.broadcast_to(acc_hi, (c,)).astype(np.int64)
    # Direction per channel: compare the output at both ends of the range.
    l_lo = ev.levels(np.broadcast_to(lo, (n_thres, c)))[0]
    l_hi = ev.levels(np.broadcast_to(hi, (n_thres, c)))[0]
    negate = l_hi < l_lo
    sign = np.where(negate, -1, 1).astype(np.int64)
    a_lo = np.where(negate, -hi, lo)
    a_hi = np.where(negate, -lo, hi)
    target = np.arange(1, n_levels, dtype=np.int64)[:, None]  # [n_thres, 1]
    left = np.broadcast_to(a_lo - 1, (n_thres, c)).copy()  # level(left) < target (virtual)
    right = np.broadcast_to(a_hi + 1, (n_thres, c)).copy()  # level(right) >= target (virtual)
    while np.any(right - left > 1):
        mid = (left + right) // 2
        lv = ev.levels(sign[None, :] * mid)
        reached = lv >= target
        active = right - left > 1
        right = np.where(active & reached, mid, right)
        left = np.where(active & ~reached, mid, left)
    thresholds = right.T.copy()  # [C, n_thres]
    levels = q.levels()
    step = 2 if q.bipolar else 1
    result = ThresholdResult(thresholds, negate, int(levels[0]), step)
    _check_monotone(ev, result, a_lo, a_hi, sign, where)
    return result


def _check_monotone(ev, res: ThresholdResult, a_lo, a_hi, sign, where: str) -> None:
    rng = np.random.default_rng(0)
    k = ev.batch
    probes = [np.clip(res.thresholds.T, a_lo, a_hi), np.clip(res.thresholds.T - 1, a_lo, a_hi)]
    for _ in range(SAMPLES_PER_CHECK):
        probes.append(rng.integers(a_lo, a_hi + 1, size=(k, ev.channels)))
    for a in probes:
        want = ev.levels(sign[None, :] * a)
        got = (a[:, :, None] >= res.thresholds[None, :, :]).sum(axis=2)
        if not np.array_equal(want, got):
            ch = int(np.argwhere(want != got)[0][1])
            raise UnsupportedError(
                f"{where}: the ops before the quantizer are not a monotone function of the "
                f"accumulator (channel {ch}); bitfab absorbs only monotone chains (affine, "
                "BatchNorm, Relu) into thresholds"
            )
