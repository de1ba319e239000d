"""The RTL instance of one sliding window (hls/rtl/bitfab_sliding_window.v)."""

from __future__ import annotations

import numpy as np

from flows.codegen.rtl_types import RtlInstance
from flows.layers.sliding_window import hls
from flows.layers.sliding_window.spec import SlidingWindowSpec


def context(s: SlidingWindowSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    """The kernel moves words: no field kind; padding is the all-zero word, as in HLS."""
    h = hls.context(s, params)
    t, left, b, r = s.pads
    return RtlInstance(
        module="bitfab_sliding_window",
        params={
            "IFM_CH": s.ifm_ch,
            "IFM_H": s.ifm_h,
            "IFM_W": s.ifm_w,
            "K_H": s.k_h,
            "K_W": s.k_w,
            "STRIDE_H": s.stride_h,
            "STRIDE_W": s.stride_w,
            "PAD_T": t,
            "PAD_L": left,
            "PAD_B": b,
            "PAD_R": r,
            "SIMD": s.simd,
            "BITS": h.bits,
        },
        in_width=h.in_width,
        out_width=h.out_width,
    )
