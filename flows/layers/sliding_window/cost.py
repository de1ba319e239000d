"""Sliding-window estimates."""

from __future__ import annotations

from flows.layers.base import memory_cost
from flows.layers.sliding_window.spec import SlidingWindowSpec


def cycles(s: SlidingWindowSpec) -> int:
    """Output-bound: one word per cycle, K_H*K_W*C/SIMD words per output pixel."""
    out_words = s.ofm_h * s.ofm_w * s.k_h * s.k_w * (s.ifm_ch // s.simd)
    in_words = s.ifm_h * s.ifm_w * (s.ifm_ch // s.simd)
    return max(out_words, in_words)


def resources(s: SlidingWindowSpec) -> dict[str, int]:
    """A line buffer of K_H rows; BRAM once it is larger than a few LUTRAMs."""
    width = s.simd * s.dtype.bitwidth()
    depth = s.k_h * (s.ifm_w + s.pads[1] + s.pads[3]) * (s.ifm_ch // s.simd)
    mem_luts, bram = memory_cost(width, depth)
    return {"LUT": int(100 + width * 4 + mem_luts), "BRAM18": int(bram), "DSP": 0}
