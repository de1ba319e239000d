"""Max-pool estimates: features of hls/rtl/bitfab_maxpool.v x coefficients fitted to its
Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

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
    """The field-wise max of bitfab_maxpool.v over K_W column words and R partial-maximum
    rows: per way a W-bit select (``mux_bits``; a 1-bit max is an OR) and a PE-field
    comparator whose cost grows with BITS-1 (``cmp_bits``); the position counters and the
    per-row window compares (``ctrl_bits``); the RAMs as ``memory_map`` maps them; the
    stage registers and forwarding words (``ff_*``: FF fit only)."""
    w = s.pe * s.dtype.bitwidth()
    r = open_rows(s)
    ways = s.k_w + r
    mems = memories(s)
    cf = s.channels // s.pe
    xw = _clog2(s.ifm_w + s.k_w + s.stride_w + 1) + 1
    yw = _clog2(s.ifm_h + s.k_h + (r + 1) * s.stride_h + 1) + 1
    return {
        "base": 1.0,
        "mux_bits": float(w * ways),
        "cmp_bits": float(s.pe * ways * (s.dtype.bitwidth() - 1)),
        "ctrl_bits": float(xw + yw + _clog2(s.ofm_w * cf) + _clog2(cf) + r * yw),
        "mem_luts": float(sum(m.luts + m.lutram for m in mems)),
        "ff_mem_bits": float(sum(m.ffs for m in mems)),
        "ff_reg_bits": float(w * (3 + r)),
    }


def _clog2(v: int) -> int:
    """clog2 of bitfab_maxpool.v: at least 1."""
    return max(1, (v - 1).bit_length())


def resources(s: MaxPoolSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("maxpool", "LUT", f),
        "BRAM18": sum(m.bram18 for m in memories(s)),
        "DSP": 0,
    }
