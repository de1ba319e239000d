"""Sliding-window numpy reference (the same element order as qonnx's Im2Col)."""

from __future__ import annotations

import numpy as np

from flows.layers.sliding_window.spec import SlidingWindowSpec


def sliding_window(x: np.ndarray, s: SlidingWindowSpec) -> np.ndarray:
    """``x [N, H, W, C]`` -> ``[N, OH, OW, K_H*K_W*C]``, zero padding."""
    t, left, b, r = s.pads
    xp = np.pad(np.asarray(x), ((0, 0), (t, b), (left, r), (0, 0)))
    n = xp.shape[0]
    out = np.empty((n, s.ofm_h, s.ofm_w, s.k_h, s.k_w, s.ifm_ch), dtype=xp.dtype)
    for ky in range(s.k_h):
        for kx in range(s.k_w):
            out[:, :, :, ky, kx, :] = xp[
                :,
                ky : ky + s.stride_h * (s.ofm_h - 1) + 1 : s.stride_h,
                kx : kx + s.stride_w * (s.ofm_w - 1) + 1 : s.stride_w,
                :,
            ]
    return out.reshape(n, s.ofm_h, s.ofm_w, -1)
