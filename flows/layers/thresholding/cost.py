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
    """PE*N comparators, the threshold ROM and the channel-group counter of
    bitfab_thresholding.v.

    A logic ROM feeds the comparators through a register, and ABC folds the two: threshold
    l of PE p is a function of the channel-group address, so each comparator is a function
    of the input field and the address bits (``cmp_inputs``; of the field and a threshold
    word when the ROM is in block RAM), and a wide one costs more than its inputs say
    (``cmp_sq_bits``: IN_BITS squared). The ROM in logic costs in proportion to its bits
    (``rom_bits``: NF words of PE*N*T_BITS); ``ctrl_bits``: the address counter. The 1..N
    count folds into the comparators (a feature for it fitted to zero). ``ff_*``: registers
    (FF fit only)."""
    n = s.pe * s.n_thres
    t_bits = _t_bits(s)
    ib = s.idt.bitwidth()
    m = memory(s)
    rows = 1 if s.shared else s.channels // s.pe
    logic = m.kind == "logic"
    addr_bits = (rows - 1).bit_length()
    return {
        "cmp_inputs": float(n * (ib + (addr_bits if logic else t_bits))),
        "cmp_sq_bits": float(n * ib * ib),
        "rom_bits": float(n * t_bits * rows if logic else 0),
        "ctrl_bits": float(addr_bits + 1),
        "ff_in_bits": float(s.pe * ib),
        # the threshold register: kept above 8 channel groups, partly folded into the
        # ROM's address register at 5..8, wholly at <= 4
        "ff_thr_bits": float(n * t_bits if logic and rows > 8 else 0),
        "ff_thr_part_bits": float(n * t_bits if logic and 4 < rows <= 8 else 0),
    }


def resources(s: ThresholdingSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("thresholding", "LUT", f),
        "BRAM18": memory(s).bram18,
        "DSP": 0,
    }
