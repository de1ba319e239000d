"""Accumulating-pool numpy reference (NHWC, no padding, floor mode): exact window sums."""

from __future__ import annotations

import numpy as np

from flows.layers.avgpool.spec import AvgPoolSpec


def sumpool(x: np.ndarray, s: AvgPoolSpec) -> np.ndarray:
    """``[N, H, W, C]`` integers -> ``[N, OH, OW, C]`` int64 sums over each window."""
    x = np.asarray(x).astype(np.int64)
    out = np.zeros((x.shape[0], s.ofm_h, s.ofm_w, x.shape[3]), np.int64)
    for ky in range(s.k_h):
        for kx in range(s.k_w):
            out += x[
                :,
                ky : ky + s.stride_h * (s.ofm_h - 1) + 1 : s.stride_h,
                kx : kx + s.stride_w * (s.ofm_w - 1) + 1 : s.stride_w,
                :,
            ]
    return out
