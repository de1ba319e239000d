"""Accumulating-pool estimates: features of hls/rtl/bitfab_avgpool.v x coefficients fitted to
its Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

from flows.layers import calibration
from flows.layers.avgpool.spec import AvgPoolSpec
from flows.layers.base import MemoryMap, memory_map


def cycles(s: AvgPoolSpec) -> int:
    """Input-bound: every input word is read once."""
    return s.ifm_h * s.ifm_w * (s.channels // s.pe)


def open_rows(s: AvgPoolSpec) -> int:
    """R, the output rows open at once (bitfab_avgpool.v)."""
    return (s.k_h + s.stride_h - 1) // s.stride_h


def memories(s: AvgPoolSpec) -> list[MemoryMap]:
    """K_W column RAMs of C/PE input words (PE*BITS wide) and R row RAMs of OFM_W*C/PE
    partial sums (PE*OBITS wide)."""
    cf = s.channels // s.pe
    w, ow = s.pe * s.idt.bitwidth(), s.pe * s.odt.bitwidth()
    cols = [memory_map(w, cf, rom=False)] * s.k_w
    rows = [memory_map(ow, s.ofm_w * cf, rom=False)] * open_rows(s)
    return cols + rows


def lut_features(s: AvgPoolSpec) -> dict[str, float]:
    """The field-wise sums of bitfab_avgpool.v: K_W-1 column adds and R row adds of OBITS
    per field (``add_bits``); the forwarding selects of the K_W column words and R row words
    and the output select (``mux_bits``); the position counters and the per-row window
    compares (``ctrl_bits``); the RAMs as ``memory_map`` maps them; the stage registers and
    forwarding words (``ff_*``: FF fit only)."""
    w, ow = s.pe * s.idt.bitwidth(), s.pe * s.odt.bitwidth()
    r = open_rows(s)
    mems = memories(s)
    cf = s.channels // s.pe
    xw = _clog2(s.ifm_w + s.k_w + s.stride_w + 1) + 1
    yw = _clog2(s.ifm_h + s.k_h + (r + 1) * s.stride_h + 1) + 1
    return {
        "base": 1.0,
        "add_bits": float(ow * (s.k_w - 1 + r)),
        "mux_bits": float(w * s.k_w + ow * 2 * r),
        "ctrl_bits": float(xw + yw + _clog2(s.ofm_w * cf) + _clog2(cf) + r * yw),
        "mem_luts": float(sum(m.luts + m.lutram for m in mems)),
        "ff_mem_bits": float(sum(m.ffs for m in mems)),
        "ff_reg_bits": float(2 * w + ow * (1 + r)),
    }


def _clog2(v: int) -> int:
    """clog2 of bitfab_avgpool.v: at least 1."""
    return max(1, (v - 1).bit_length())


def resources(s: AvgPoolSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("avgpool", "LUT", f),
        "BRAM18": sum(m.bram18 for m in memories(s)),
        "DSP": 0,
    }
