"""Sliding-window estimates: features of hls/rtl/bitfab_sliding_window.v x coefficients
fitted to its Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

import math

from flows.layers import calibration
from flows.layers.base import MemoryMap, memory_map
from flows.layers.sliding_window.spec import SlidingWindowSpec


def cycles(s: SlidingWindowSpec) -> int:
    """Output-bound: one word per cycle, K_H*K_W*C/SIMD words per output pixel."""
    out_words = s.ofm_h * s.ofm_w * s.k_h * s.k_w * (s.ifm_ch // s.simd)
    in_words = s.ifm_h * s.ifm_w * (s.ifm_ch // s.simd)
    return max(out_words, in_words)


def ring_rows(s: SlidingWindowSpec) -> int:
    """R, the rows of the kernel's ring buffer (bitfab_sliding_window.v's localparams)."""

    def clamp(v: int, lo: int, hi: int) -> int:
        return max(lo, min(v, hi))

    t_last = (s.ofm_h - 1) * s.stride_h - s.pads[0]
    nrows = clamp(t_last + s.k_h, 0, s.ifm_h)
    last_rows = nrows - clamp(t_last, 0, nrows)
    first_rows = clamp(s.k_h - s.pads[0], 0, nrows)
    return max(1, s.k_h + s.stride_h, last_rows + first_rows)


def memory(s: SlidingWindowSpec) -> MemoryMap:
    """The row ring: R rows of IFM_W*IFM_CH/SIMD words of SIMD*BITS bits, one RAM."""
    depth = ring_rows(s) * s.ifm_w * (s.ifm_ch // s.simd)
    return memory_map(s.simd * s.dtype.bitwidth(), depth, rom=False)


def lut_features(s: SlidingWindowSpec) -> dict[str, float]:
    """The word path (padding mux, output register), the RAM as mapped, the address and
    coordinate arithmetic (log of the ring depth and of the image), the constant multiply
    of the ring-row release (``row_mul_bits``)."""
    m = memory(s)
    depth = ring_rows(s) * s.ifm_w * (s.ifm_ch // s.simd)
    return {
        "base": 1.0,
        "word_bits": float(s.simd * s.dtype.bitwidth()),
        "mem_luts": float(m.luts + m.lutram),
        "mem_ffs": float(m.ffs),
        "addr_bits": float(math.ceil(math.log2(depth + 1))),
        "coord_bits": float(math.ceil(math.log2(max(s.ifm_h, s.ifm_w) + 4)) * 4),
        # rel * ROW as shifts and adds: one adder of the ring address width per further set
        # bit of ROW = IFM_W * CH/SIMD
        "row_mul_bits": float(
            (bin(s.ifm_w * (s.ifm_ch // s.simd)).count("1") - 1) * math.ceil(math.log2(depth + 1))
        ),
    }


def resources(s: SlidingWindowSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("sliding_window", "LUT", f),
        "BRAM18": memory(s).bram18,
        "DSP": 0,
    }
