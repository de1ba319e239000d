"""Thresholding cycle and resource estimates: features of hls/rtl/bitfab_thresholding.v x
coefficients fitted to its Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

from flows.datatypes import signed_type_holding
from flows.layers import calibration
from flows.layers.base import MemoryMap, memory_map
from flows.layers.thresholding.spec import ThresholdingSpec


def cycles(s: ThresholdingSpec) -> int:
    return (s.channels // s.pe) * s.pixels


def _t_bits(s: ThresholdingSpec) -> int:
    """T_BITS as the RTL role sets it when the thresholds lie in the input's range."""
    return signed_type_holding(int(s.idt.min()), int(s.idt.max()) + 1).bitwidth()


def memory(s: ThresholdingSpec) -> MemoryMap:
    """The threshold ROM: C/PE words (one if shared) of PE*N*T_BITS bits."""
    rows = 1 if s.shared else s.channels // s.pe
    return memory_map(s.pe * s.n_thres * _t_bits(s), rows, rom=True)


def lut_features(s: ThresholdingSpec) -> dict[str, float]:
    """Comparators (PE*N of the compare width), the count adders, the ROM as mapped."""
    cw = max(s.idt.bitwidth() + 1, _t_bits(s)) + 1
    m = memory(s)
    return {
        "base": 1.0,
        "cmp_bits": float(s.pe * s.n_thres * cw),
        "count": float(s.pe * s.n_thres),
        "mem_luts": float(m.luts + m.lutram),
        "io_bits": float(s.pe * (s.idt.bitwidth() + s.odt.bitwidth())),
        "rom_out_bits": float(s.pe * s.n_thres * _t_bits(s) if m.kind == "logic" else 0),
    }


def resources(s: ThresholdingSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("thresholding", "LUT", f),
        "BRAM18": memory(s).bram18,
        "DSP": 0,
    }
