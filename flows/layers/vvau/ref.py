"""The VVAU's numpy reference: the integer oracle every other execution is compared to."""

from __future__ import annotations

import numpy as np

from flows.layers.thresholding.ref import thresholding


def vvau(
    x: np.ndarray, w: np.ndarray, thresholds: np.ndarray | None, out_bias: int, out_step: int
) -> np.ndarray:
    """``x [..., K*C]`` windows in (k, c) order times ``w [K, C]`` per channel: ``acc[..., c]
    = sum_k x[..., k, c] * w[k, c]``; thresholds ``[C, n]`` or None (the accumulator out).

    Exact int64 arithmetic; the result is what a MatMul with the block-diagonal [K*C, C]
    matrix of a lowered depthwise conv gives.
    """
    w = np.asarray(w, np.int64)
    kk, c = w.shape
    xi = np.asarray(x, np.int64)
    acc = (xi.reshape(*xi.shape[:-1], kk, c) * w).sum(axis=-2)
    if thresholds is None:
        return acc
    return thresholding(acc, thresholds, out_bias, out_step)
