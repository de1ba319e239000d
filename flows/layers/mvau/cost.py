"""MVAU cycle and resource estimates (FINN-R style formulas; estimates, not synthesis)."""

from __future__ import annotations

import math

from flows.layers.base import memory_cost
from flows.layers.mvau.spec import MvauSpec


def cycles(s: MvauSpec) -> int:
    """Cycles per image: every (neuron fold, synapse fold) pair takes one cycle per pixel."""
    return s.nf * s.sf * s.pixels


def resources(s: MvauSpec) -> dict[str, int]:
    """LUT/BRAM18/DSP estimate.

    Compute: an XNOR lane is ~1 LUT plus its share of the popcount tree; a LUT multiplier
    ~ wbits*ibits LUTs; DSP lanes take one DSP48 each. Memory: each PE holds NF*SF words of
    SIMD*wbits bits; small memories go to LUTRAM (64 bits per LUT), larger ones to BRAM18
    (18 Kib in one of its aspect ratios, 16K x 1 to 512 x 36).
    """
    wb, ib = s.wdt.bitwidth(), s.idt.bitwidth()
    acc_bits = s.acc_dt.bitwidth()
    lanes = s.pe * s.simd
    kind = s.mac
    if kind == "XNOR":
        compute = lanes + s.pe * acc_bits * max(1, int(math.log2(max(s.simd, 2))))
    elif kind == "LUT":
        compute = lanes * wb * ib + s.pe * acc_bits * 2
    else:
        compute = s.pe * acc_bits * 2
    if s.requant == "shift":  # adder, shift, rounding fix-up and clamp
        thresh = s.pe * acc_bits * 3
    else:  # one comparator per threshold
        thresh = s.pe * acc_bits * max(s.n_thres, 0)
    mem_luts, bram = (s.pe * v for v in memory_cost(s.simd * wb, s.nf * s.sf))
    dsp = lanes if kind == "DSP" else 0
    return {"LUT": int(compute + thresh + mem_luts + 150), "BRAM18": int(bram), "DSP": int(dsp)}
