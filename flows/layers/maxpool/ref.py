"""Max-pool numpy reference (NHWC, no padding, floor mode)."""

from __future__ import annotations

import numpy as np

from flows.layers.maxpool.spec import MaxPoolSpec


def maxpool(x: np.ndarray, s: MaxPoolSpec) -> np.ndarray:
    x = np.asarray(x)
    out = None
    for ky in range(s.k_h):
        for kx in range(s.k_w):
            v = x[
                :,
                ky : ky + s.stride_h * (s.ofm_h - 1) + 1 : s.stride_h,
                kx : kx + s.stride_w * (s.ofm_w - 1) + 1 : s.stride_w,
                :,
            ]
            out = v if out is None else np.maximum(out, v)
    return out
