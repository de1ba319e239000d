"""Max-pool estimates: features of hls/rtl/bitfab_maxpool.v x coefficients fitted to its
Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

import math

from flows.layers import calibration
from flows.layers.base import MemoryMap, memory_map
from flows.layers.maxpool.spec import MaxPoolSpec


def cycles(s: MaxPoolSpec) -> int:
    """Input-bound: every input word is read once."""
    return s.ifm_h * s.ifm_w * (s.channels // s.pe)


def open_rows(s: MaxPoolSpec) -> int:
    """R, the output rows open at once (bitfab_maxpool.v)."""
    return (s.k_h + s.stride_h - 1) // s.stride_h


def memories(s: MaxPoolSpec) -> list[MemoryMap]:
    """K_W column RAMs of C/PE words and R row RAMs of OFM_W*C/PE words, PE*BITS wide."""
    w, cf = s.pe * s.dtype.bitwidth(), s.channels // s.pe
    cols = [memory_map(w, cf, rom=False)] * s.k_w
    rows = [memory_map(w, s.ofm_w * cf, rom=False)] * open_rows(s)
    return cols + rows


def lut_features(s: MaxPoolSpec) -> dict[str, float]:
    """Field-wise max over K_W columns and R rows, their forwarding muxes, the RAMs."""
    w = s.pe * s.dtype.bitwidth()
    ways = s.k_w + open_rows(s)
    mems = memories(s)
    return {
        "base": 1.0,
        "max_bits": float(w * ways),
        "mem_luts": float(sum(m.luts + m.lutram for m in mems)),
        "mem_ffs": float(sum(m.ffs for m in mems)),
        "ctrl_bits": float(math.ceil(math.log2(max(s.ifm_h, s.ifm_w) + 4)) * open_rows(s)),
    }


def resources(s: MaxPoolSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("maxpool", "LUT", f),
        "BRAM18": sum(m.bram18 for m in memories(s)),
        "DSP": 0,
    }
